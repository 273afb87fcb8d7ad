// Entry of viewer.js: a small classic-script loader that defines
// window.ReaderstudyViewer at once. Cornerstone3D lives in the ES module
// viewer-core.<hash>.js, whose import starts as soon as this script runs; mount()
// returns a handle at once and starts fetching the series metadata and frames
// itself (SeriesFetch), in parallel with that import. Calls made on the handle
// before the core is there are queued and replayed in order.
import { buildColorbar } from './colorbar.js';
import { colorbarText, METHOD_LABELS, SCALE_LABELS, SIGNED_LABELS } from './colormaps.js';
import { displayNames, formatPercent, labelColor, PALETTE, probabilityRows } from './labels.js';
import { buildSliceStrip } from './strip.js';
import { buildNomogram, nomogramLayout } from './nomogram.js';
import { buildClinicalTable, buildFeatureChart, clinicalText, featureBars } from './features.js';
import { mapStrip } from './stripdata.js';
import { METHODS, normaliseOverlay } from './overlaydata.js';
import { buildToolbar } from './toolbar.js';
import { buildMarksPanel } from './markspanel.js';
import { DEFAULT_PRESET, PRESET_ORDER, PRESETS, resolvePreset, voiRangeFor } from './presets.js';
import { sortInstances } from './sort.js';
import { SeriesFetch } from './boot.js';
import { fitRect, frameInfo, framePixels, paint, windowed } from './preview.js';
import { injectViewerCss } from './css.js';
import { deferred } from './deferred.js';

/* global __READERSTUDY_VIEWER_CORE__, __READERSTUDY_VIEWER_PRELOAD__, __READERSTUDY_CORNERSTONE_VERSION__ */
const VERSION = '0.3.0';
const SCRIPT_URL =
  (typeof document !== 'undefined' && document.currentScript && document.currentScript.src) ||
  (typeof location !== 'undefined' ? location.href : '');
const CORE_URL = new URL(__READERSTUDY_VIEWER_CORE__, SCRIPT_URL).href;
// The core and the chunks it imports statically (build.mjs).
const PRELOAD = __READERSTUDY_VIEWER_PRELOAD__.map((f) => new URL(f, SCRIPT_URL).href);

export const MARKS = {
  mount: 'readerstudy-viewer:mount',
  metadata: 'readerstudy-viewer:metadata',
  core: 'readerstudy-viewer:core',
  firstPaint: 'readerstudy-viewer:first-paint',
  firstImage: 'readerstudy-viewer:first-image',
  allLoaded: 'readerstudy-viewer:all-loaded',
};

let coreModule = null;
let corePromise = null;
// <link rel=modulepreload> for the core and its shared chunk, before the import:
// the browser fetches all of them in parallel (not the chunk only once the core
// is parsed), compiles them off the main thread and uses its code cache for them
// from a reader's second case on, as it did for the single classic script.
function preloadCore() {
  if (typeof document === 'undefined' || !document.head) return;
  const have = new Set([...document.querySelectorAll('link[rel="modulepreload"]')].map((l) => l.href));
  for (const href of PRELOAD) {
    if (have.has(href)) continue;
    const link = document.createElement('link');
    link.rel = 'modulepreload';
    link.href = href;
    if (document.currentScript && document.currentScript.crossOrigin !== null) link.crossOrigin = document.currentScript.crossOrigin;
    document.head.appendChild(link);
  }
}
function loadCore() {
  if (!corePromise) {
    preloadCore();
    corePromise = import(CORE_URL).then((m) => {
      coreModule = m;
      performance.mark(MARKS.core);
      return m;
    });
    corePromise.catch(() => {});
  }
  return corePromise;
}
// The core's files are fetched and compiled from the start (modulepreload), but
// evaluating it (~0.5 s of main thread on a slow machine: vtk.js, dcmjs, ...)
// waits until the first mount has painted its preview, so that it does not hold
// up that first paint. A page that mounts nothing right away gets the core
// evaluated once it has loaded, ready for a later mount().
let waitingMounts = 0;
if (typeof document !== 'undefined') {
  preloadCore();
  const idle = () => {
    if (!waitingMounts) loadCore();
  };
  if (document.readyState === 'complete') setTimeout(idle, 0);
  else window.addEventListener('load', () => setTimeout(idle, 0), { once: true });
}
// The decode worker(s), started by the first mount() so that they are up by the
// time the core needs them (it evaluates after the first paint); the core takes
// them over (src/decode.js) instead of starting its own.
let workers = null;
function startWorkers(opts) {
  if (workers || typeof Worker === 'undefined') return;
  const n = Number(opts.maxWebWorkers) || Math.max(1, Math.floor((navigator.hardwareConcurrency || 2) / 2));
  workers = [];
  try {
    for (let i = 0; i < n; i++) {
      workers.push(new Worker(new URL('decodeImageFrameWorker.js', SCRIPT_URL), { type: 'module' }));
    }
  } catch (e) {
    console.warn('[readerstudy viewer] decode worker not started early', e);
  }
}
function takeWorkers() {
  const w = workers || [];
  workers = [];
  return w;
}

// At most this long (ms from mount) the core waits for the preview to be painted.
const PREVIEW_WAIT_MS = 1500;

function injectCss() {
  injectViewerCss(new URL('viewer.css', SCRIPT_URL).href);
}

const QUEUED = [
  'setWindow',
  'setInvert',
  'reset',
  'playCine',
  'stopCine',
  'toggleCine',
  'setOverlayOpacity',
  'setOverlayVisible',
  'setMaskVisible',
];

/**
 * Mount a viewer into `element` (which must have a size; the viewer fills it).
 * Returns a handle immediately; `handle.ready` resolves when the first image is
 * on screen, `handle.loaded` when every slice is cached.
 */
function mount(element, options = {}) {
  if (!(element instanceof Element)) throw new TypeError('mount(element, options): element must be a DOM element');
  const opts = { dicomwebRoot: '/dicomweb', initialSlice: 'middle', prefetchConcurrency: 6, cineFps: 10, injectCss: true };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) opts[k] = v;
  if (!opts.studyUID || !opts.seriesUID) throw new Error('mount(): studyUID and seriesUID are required');
  if (opts.injectCss) injectCss();
  performance.mark(MARKS.mount);
  const session = new SeriesFetch(opts);

  const placeholder = document.createElement('div');
  placeholder.className = 'rsv-root rsv-placeholder';
  const pvp = document.createElement('div');
  pvp.className = 'rsv-viewport';
  placeholder.appendChild(pvp);
  const msg = document.createElement('div');
  msg.className = 'rsv-message';
  msg.textContent = 'Loading…';
  pvp.appendChild(msg);
  element.appendChild(placeholder);
  const preview = startPreview(session, pvp, msg, opts);
  session.preview = preview;
  if (!coreModule) startWorkers(opts);
  session.takeWorkers = takeWorkers;

  let real = null;
  let destroyed = false;
  const queue = [];
  const subs = new Set();
  const local = { preset: resolvePreset(opts.initialPreset) || DEFAULT_PRESET, fps: opts.cineFps, slice: null };
  const { promise: ready, resolve: resolveReady, reject: rejectReady } = deferred();
  const { promise: loaded, resolve: resolveLoaded } = deferred();
  ready.catch(() => {});

  function later(name, args) {
    return new Promise((resolve, reject) => queue.push({ name, args, resolve, reject }));
  }

  preview.onSlice = (i) => handle.setSlice(i);
  preview.getPreset = () => local.preset;

  // The core is evaluated once this mount's preview is on screen (see above).
  waitingMounts += 1;
  preview.settled.then(() => (waitingMounts -= 1));
  (corePromise ? loadCore() : preview.settled.then(loadCore)).then(
    (core) => {
      if (destroyed) return;
      // The core's viewport takes over the preview canvas (shown until its own first render).
      real = core.mount(element, options, session);
      placeholder.remove();
      real.ready.then(resolveReady, rejectReady);
      real.loaded.then(resolveLoaded);
      for (const s of subs) s.off = real.on(s.type, s.fn);
      for (const { name, args, resolve, reject } of queue.splice(0)) {
        try {
          resolve(real[name](...args));
        } catch (e) {
          reject(e);
          console.error('[readerstudy viewer]', e);
        }
      }
    },
    (err) => {
      if (destroyed) return;
      const error = new Error(`could not load the viewer (${err && err.message ? err.message : err})`);
      console.error('[readerstudy viewer]', error);
      msg.textContent = error.message;
      session.destroy();
      if (typeof opts.onError === 'function') opts.onError(error);
      rejectReady(error);
    },
  );

  const handle = {
    get element() {
      return real ? real.element : placeholder;
    },
    ready,
    loaded,
    /** Resolves when the first image is on screen: the loader's preview, else Cornerstone's render. */
    painted: preview.painted,
    presets: PRESETS,
    getSliceCount: () => (real ? real.getSliceCount() : session.count),
    getSliceInfo: (index) => (real ? real.getSliceInfo(index) : null),
    getSlice: () => (real ? real.getSlice() : local.slice),
    setSlice(index) {
      if (real) return real.setSlice(index);
      const i = Math.round(Number(index));
      if (!Number.isFinite(i)) throw new TypeError('setSlice(index): index must be a number');
      local.slice = i;
      if (!session.count) session.opts.pendingSlice = i;
      later('setSlice', [i]);
      preview.show(i);
      return Promise.resolve(i);
    },
    setPreset(name) {
      if (real) return real.setPreset(name);
      const key = resolvePreset(name);
      if (!key) throw new Error(`unknown preset "${name}" (known: ${PRESET_ORDER.join(', ')})`);
      local.preset = key;
      later('setPreset', [key]);
      preview.repaint();
      return key;
    },
    getPreset: () => (real ? real.getPreset() : local.preset),
    isCinePlaying: () => (real ? real.isCinePlaying() : false),
    setCineFps(fps) {
      if (real) return real.setCineFps(fps);
      const f = Math.round(Number(fps));
      if (!Number.isFinite(f) || f <= 0) throw new TypeError('setCineFps(fps): fps must be a number from 1 to 60');
      local.fps = Math.min(60, f);
      later('setCineFps', [local.fps]);
      return local.fps;
    },
    getCineFps: () => (real ? real.getCineFps() : local.fps),
    setOverlay(name, overlay) {
      if (real) return real.setOverlay(name, overlay);
      if (overlay != null) normaliseOverlay(overlay, null); // shape errors throw now
      later('setOverlay', [name, overlay]);
    },
    setMaskOutline(mask) {
      if (real) return real.setMaskOutline(mask);
      if (mask != null) normaliseOverlay(mask, null, { mask: true });
      later('setMaskOutline', [mask]);
    },
    getOverlays: () => (real ? real.getOverlays() : { overlays: {}, mask: null }),
    setSideBySide(options) {
      if (real) return real.setSideBySide(options);
      if (options && options.truthMask) normaliseOverlay(options.truthMask, null, { mask: true });
      return later('setSideBySide', [options]);
    },
    getSideBySide: () => (real ? real.getSideBySide() : { on: false, panels: [], slices: [] }),
    /** Promise of the marks controller (once the first image is on screen and the tools are up). */
    marks: (onChange) => ready.then(() => real.marks(onChange)),
    getState() {
      if (real) return real.getState();
      return {
        slice: local.slice,
        count: session.count,
        preset: local.preset,
        window: null,
        invert: false,
        zoom: null,
        cine: false,
        cineFps: local.fps,
        tools: false,
        loaded: 0,
        failed: 0,
        timings: { firstImageMs: null, allLoadedMs: null, metadataMs: null },
        overlays: {},
        mask: null,
        sideBySide: { on: false, panels: [], slices: [] },
      };
    },
    on(type, fn) {
      const s = { type, fn, off: real ? real.on(type, fn) : null };
      subs.add(s);
      return () => {
        subs.delete(s);
        if (s.off) s.off();
      };
    },
    destroy() {
      if (real) return real.destroy();
      if (destroyed) return;
      destroyed = true;
      session.destroy();
      preview.destroy();
      queue.length = 0;
      subs.clear();
      placeholder.remove();
      rejectReady(new Error('destroyed'));
    },
  };
  for (const name of QUEUED) {
    handle[name] = (...args) => (real ? real[name](...args) : (later(name, args), undefined));
  }
  return handle;
}

/**
 * The preview of one mount: paints the slice on screen from its raw frame as soon
 * as that arrives (see preview.js), repaints on slice/preset changes and resizes
 * until the core takes over. The core moves `canvas` into its viewport and calls
 * `done()` after its own first render.
 */
function startPreview(session, vp, msg, opts) {
  const canvas = document.createElement('canvas');
  canvas.className = 'rsv-preview';
  canvas.setAttribute('aria-hidden', 'true');
  vp.appendChild(canvas);
  const label = document.createElement('div');
  label.className = 'rsv-text rsv-tl rsv-slice';
  vp.appendChild(label);
  const wl = document.createElement('div');
  wl.className = 'rsv-text rsv-br rsv-wl';
  vp.appendChild(wl);
  const frames = new Map(); // index -> {pixelData, transferSyntax}, until the core takes over
  let info = null;
  let instances = null;
  let resolvePainted, resolveSettled;
  let over = false;
  const settled = new Promise((r) => (resolveSettled = r));
  // The preview is on screen, or will not be (nothing it can draw): the core may go on.
  const settle = () => resolveSettled();
  setTimeout(settle, PREVIEW_WAIT_MS);
  const p = {
    canvas,
    slice: null,
    paintedMs: null,
    painted: new Promise((r) => (resolvePainted = r)),
    settled,
    onSlice: null,
    getPreset: () => opts.initialPreset,
    image: null,
    show(i) {
      if (over || !session.count) return;
      p.slice = Math.min(session.count - 1, Math.max(0, i));
      label.textContent = `Slice ${p.slice + 1} / ${session.count}`;
      p.repaint();
    },
    repaint() {
      if (over || p.slice === null) return false;
      const frame = frames.get(p.slice);
      const inst = instances && instances[p.slice];
      info = inst ? frameInfo(inst) : null;
      if (!frame || !info) return false;
      const key = resolvePreset(p.getPreset()) || DEFAULT_PRESET;
      const image = windowed(info, frame, voiRangeFor(PRESETS[key]));
      if (!image || !paint(canvas, info, image)) return false;
      p.image = image;
      const w = PRESETS[key];
      wl.textContent = `${w.label}  W ${w.width} L ${w.center}  100%`;
      msg.hidden = true;
      if (p.paintedMs === null) {
        p.paintedMs = performance.now() - session.t0;
        performance.mark(MARKS.firstPaint, { detail: { firstPaintMs: p.paintedMs, slice: p.slice, source: 'preview' } });
        resolvePainted({ firstPaintMs: p.paintedMs, source: 'preview' });
        // After the browser has shown it (next frame), not before.
        requestAnimationFrame(() => setTimeout(settle, 0));
      }
      return true;
    },
    /** Where the image is drawn (CSS px in the viewport), for tests. */
    rect: () => (info ? fitRect(info, canvas.clientWidth, canvas.clientHeight) : null),
    /** The core's first render is on screen: drop the preview. */
    done(firstImageMs) {
      if (p.paintedMs === null) {
        p.paintedMs = firstImageMs;
        performance.mark(MARKS.firstPaint, { detail: { firstPaintMs: firstImageMs, source: 'cornerstone' } });
        resolvePainted({ firstPaintMs: firstImageMs, source: 'cornerstone' });
      }
      p.destroy();
    },
    destroy() {
      over = true;
      settle();
      frames.clear();
      ro.disconnect();
      session.observe(null);
      canvas.remove();
    },
  };
  session.metadata.then(
    ({ sorted }) => {
      instances = sorted.map((s) => (s.frame === 1 ? s.instance : null));
      p.show(session.first);
      if (!session.count || !frameInfo(sorted[session.first].instance)) settle();
    },
    settle,
  );
  session.observe((index, res) => {
    if (over) return;
    let f = null;
    try {
      if (!res.error && res.buffer) f = framePixels(res.buffer, res.contentType);
    } catch {
      f = null;
    }
    if (f) frames.set(index, f);
    if (index === p.slice && !p.repaint()) settle(); // e.g. a compressed frame: the core draws it
  });
  const ro = new ResizeObserver(() => p.repaint());
  ro.observe(vp);
  // Wheel before the core is there: change the slice (queued for the core).
  vp.addEventListener(
    'wheel',
    (e) => {
      if (over || p.slice === null || !e.deltaY) return;
      e.preventDefault();
      const next = Math.min(session.count - 1, Math.max(0, p.slice + (e.deltaY > 0 ? 1 : -1)));
      if (next !== p.slice && p.onSlice) p.onSlice(next);
    },
    { passive: false },
  );
  return p;
}

/** Bytes currently held by the Cornerstone image cache (for tests/benchmarks). */
function cacheBytes() {
  return coreModule ? coreModule.cacheBytes() : 0;
}

const ReaderstudyViewer = Object.freeze({
  mount,
  buildToolbar,
  buildMarksPanel,
  buildColorbar,
  buildSliceStrip,
  buildNomogram,
  nomogramLayout,
  buildFeatureChart,
  featureBars,
  buildClinicalTable,
  clinicalText,
  colorbarText,
  probabilityRows,
  displayNames,
  formatPercent,
  labelColor,
  mapStrip,
  PALETTE,
  SCALE_LABELS,
  sortInstances,
  PRESETS,
  PRESET_ORDER,
  DEFAULT_PRESET,
  METHODS,
  METHOD_LABELS,
  SIGNED_LABELS,
  MARKS,
  cacheBytes,
  /** Promise of the core module (resolves once Cornerstone3D is loaded). */
  loadCore,
  versions: Object.freeze({ viewer: VERSION, cornerstone: __READERSTUDY_CORNERSTONE_VERSION__ }),
});

if (typeof window !== 'undefined') window.ReaderstudyViewer = ReaderstudyViewer;
