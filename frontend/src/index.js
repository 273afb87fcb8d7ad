// Entry of viewer.js: a small classic-script loader that defines
// window.ReaderstudyViewer at once. Cornerstone3D lives in the ES module
// viewer-core.<hash>.js, whose import starts as soon as this script runs; mount()
// returns a handle at once and starts fetching the series metadata and frames
// itself (SeriesFetch), in parallel with that import. Calls made on the handle
// before the core is there are queued and replayed in order.
import { buildColorbar } from './colorbar.js';
import { METHOD_LABELS, SIGNED_LABELS } from './colormaps.js';
import { METHODS, normaliseOverlay } from './overlaydata.js';
import { buildToolbar } from './toolbar.js';
import { DEFAULT_PRESET, PRESET_ORDER, PRESETS, resolvePreset } from './presets.js';
import { sortInstances } from './sort.js';
import { SeriesFetch } from './boot.js';

/* global __READERSTUDY_VIEWER_CORE__, __READERSTUDY_CORNERSTONE_VERSION__ */
const VERSION = '0.2.0';
const SCRIPT_URL =
  (typeof document !== 'undefined' && document.currentScript && document.currentScript.src) ||
  (typeof location !== 'undefined' ? location.href : '');
const CORE_URL = new URL(__READERSTUDY_VIEWER_CORE__, SCRIPT_URL).href;

export const MARKS = {
  mount: 'readerstudy-viewer:mount',
  metadata: 'readerstudy-viewer:metadata',
  firstImage: 'readerstudy-viewer:first-image',
  allLoaded: 'readerstudy-viewer:all-loaded',
};

let coreModule = null;
let corePromise = null;
function loadCore() {
  if (!corePromise) {
    corePromise = import(CORE_URL).then((m) => (coreModule = m));
    corePromise.catch(() => {});
  }
  return corePromise;
}
if (typeof document !== 'undefined') loadCore();

function injectCss() {
  const href = new URL('viewer.css', SCRIPT_URL).href;
  if (document.querySelector('link[data-readerstudy-viewer-css]')) return;
  for (const l of document.querySelectorAll('link[rel="stylesheet"]')) {
    if (l.href === href || /\/viewer(\.[0-9a-f]+)?\.css$/.test(l.href)) return;
  }
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  link.dataset.readerstudyViewerCss = '1';
  document.head.appendChild(link);
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
  const msg = document.createElement('div');
  msg.className = 'rsv-message';
  msg.textContent = 'Loading…';
  placeholder.appendChild(msg);
  element.appendChild(placeholder);

  let real = null;
  let destroyed = false;
  const queue = [];
  const subs = new Set();
  const local = { preset: resolvePreset(opts.initialPreset) || DEFAULT_PRESET, fps: opts.cineFps, slice: null };
  let resolveReady, rejectReady, resolveLoaded;
  const ready = new Promise((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  const loaded = new Promise((res) => {
    resolveLoaded = res;
  });
  ready.catch(() => {});

  function later(name, args) {
    return new Promise((resolve, reject) => queue.push({ name, args, resolve, reject }));
  }

  loadCore().then(
    (core) => {
      if (destroyed) return;
      placeholder.remove();
      real = core.mount(element, options, session);
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
      return Promise.resolve(i);
    },
    setPreset(name) {
      if (real) return real.setPreset(name);
      const key = resolvePreset(name);
      if (!key) throw new Error(`unknown preset "${name}" (known: ${PRESET_ORDER.join(', ')})`);
      local.preset = key;
      later('setPreset', [key]);
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

/** Bytes currently held by the Cornerstone image cache (for tests/benchmarks). */
function cacheBytes() {
  return coreModule ? coreModule.cacheBytes() : 0;
}

const ReaderstudyViewer = Object.freeze({
  mount,
  buildToolbar,
  buildColorbar,
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
