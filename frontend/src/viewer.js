// mount() of the viewer core: one Cornerstone3D StackViewport on a DICOMweb
// series, OHIF-like mouse/keyboard defaults, window presets, cine, loading of
// the whole series and AI overlays. The viewer.js loader calls it with the
// SeriesFetch it started (metadata and frame bytes already on their way).
import {
  cache,
  Enums as csEnums,
  eventTarget,
  getShouldUseCPURendering,
  imageLoader,
  imageLoadPoolManager,
  imageRetrievalPoolManager,
  init as csInit,
  metaData,
  RenderingEngine,
} from '@cornerstonejs/core';
import { Enums as metadataEnums } from '@cornerstonejs/metadata';
// Deep imports: the package barrel also pulls in the worker entry and every codec.
// Not the loader's init(): src/decode.js decides where each frame is decoded
// and registers the workers itself.
import { setOptions as setLoaderOptions } from '../node_modules/@cornerstonejs/dicom-image-loader/dist/esm/imageLoader/internal/options.js';
import registerLoaders from '../node_modules/@cornerstonejs/dicom-image-loader/dist/esm/imageLoader/registerLoaders.js';
import { configureWorkers, ensureWorkers, setPrefetchOnMainThread } from './decode.js';
import metaDataManager from '@cornerstonejs/dicom-image-loader/wadors/metaDataManager';
import extractMultipart from '@cornerstonejs/dicom-image-loader/wadors/extractMultipart';
import { getTransferSyntaxForContentType } from '@cornerstonejs/dicom-image-loader/wadors/loadImage';
import { SeriesFetch } from './boot.js';
import { OverlayLayer } from './overlay.js';
import { SideBySide } from './sidebyside.js';
import { normaliseOverlay } from './overlaydata.js';
import { DEFAULT_PRESET, PRESET_ORDER, PRESETS, presetForRange, resolvePreset, voiRangeFor } from './presets.js';
import { injectViewerCss } from './css.js';
import { deferred } from './deferred.js';

const wadors = { metaDataManager };
const SCRIPT_URL = import.meta.url;
// Frame bytes fetched by SeriesFetch, handed to the wadors loader through the
// compressed-frame-data metadata (it decodes them in the worker instead of
// requesting the frame again); dropped once the image is cached.
const COMPRESSED_FRAME_DATA = metadataEnums.MetadataModules.COMPRESSED_FRAME_DATA;
const frameBytes = new Map();
function frameBytesProvider(type, imageId) {
  return type === COMPRESSED_FRAME_DATA ? frameBytes.get(imageId) : undefined;
}

export const MARKS = {
  mount: 'readerstudy-viewer:mount',
  metadata: 'readerstudy-viewer:metadata',
  firstPaint: 'readerstudy-viewer:first-paint',
  firstImage: 'readerstudy-viewer:first-image',
  allLoaded: 'readerstudy-viewer:all-loaded',
};

const DEFAULTS = {
  dicomwebRoot: '/dicomweb',
  initialSlice: 'middle', // 'first' | 'middle' | 'last' | index
  initialPreset: DEFAULT_PRESET,
  cineFps: 10,
  prefetchConcurrency: 6,
  maxWebWorkers: undefined, // default: max(1, floor(cores/2))
  hotkeys: true, // true: document; an Element: only keys aimed at it; false: none
  injectCss: true,
  fetchOptions: {}, // extra fetch() init for the metadata request (headers, credentials)
};

let csReady = null;
let mountCounter = 0;
const mounted = new Set();

function baseUrl() {
  return new URL('.', SCRIPT_URL).href;
}

function initCornerstone(options, startedWorkers) {
  if (csReady) for (const w of startedWorkers) w.terminate();
  if (!csReady) {
    csInit();
    const loaderOptions = {
      maxWebWorkers:
        options.maxWebWorkers || Math.max(1, Math.floor((navigator.hardwareConcurrency || 2) / 2)),
      wasmBasePath: new URL('wasm/', baseUrl()).href,
    };
    setLoaderOptions(loaderOptions);
    registerLoaders(loaderOptions);
    configureWorkers(loaderOptions.maxWebWorkers);
    // Started by the loader at mount() (or now): up in parallel with the first
    // image, which itself is decoded here.
    ensureWorkers(startedWorkers);
    metaData.addProvider(frameBytesProvider, 100000);
    csReady = true;
  }
}

let toolsModule = null;
let toolsApi = null;
let marksModule = null;
function loadMarks() {
  if (!marksModule) marksModule = import('./marks.js');
  return marksModule;
}
function loadTools() {
  if (!toolsModule) toolsModule = import('./tools.js').then((m) => (toolsApi = m));
  return toolsModule;
}

function injectCss() {
  injectViewerCss(new URL('viewer.css', baseUrl()).href);
}

function el(tag, className, parent) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (parent) parent.appendChild(e);
  return e;
}

function isEditable(target) {
  if (!target || !(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  return Boolean(target.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]'));
}

/**
 * Mount a viewer into `element` (which must have a size; the viewer fills it).
 * Returns a handle immediately; `handle.ready` resolves when the first image is
 * on screen, `handle.loaded` when every slice is cached.
 */
export function mount(element, options = {}, session = null) {
  if (!(element instanceof Element)) throw new TypeError('mount(element, options): element must be a DOM element');
  const opts = { ...DEFAULTS };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) opts[k] = v;
  opts.prefetchConcurrency = Math.max(1, Number(opts.prefetchConcurrency) || DEFAULTS.prefetchConcurrency);
  if (!opts.studyUID || !opts.seriesUID) throw new Error('mount(): studyUID and seriesUID are required');
  if (opts.injectCss) injectCss();
  opts.cineFps = clampFps(opts.cineFps) || DEFAULTS.cineFps;

  const id = ++mountCounter;
  if (!session) {
    session = new SeriesFetch(opts);
    performance.mark(MARKS.mount);
  }
  const t0 = session.t0;
  const listeners = new Map();
  const state = {
    destroyed: false,
    imageIds: [],
    count: 0,
    viewport: null,
    renderingEngine: null,
    toolGroupId: `rsv-tools-${id}`,
    renderingEngineId: `rsv-engine-${id}`,
    viewportId: `rsv-viewport-${id}`,
    preset: resolvePreset(opts.initialPreset) || DEFAULT_PRESET,
    invert: false,
    cineTimer: null,
    cineFps: opts.cineFps,
    sliceWaiters: new Map(),
    firstImageMs: null,
    allLoadedMs: null,
    metadataMs: null,
    loaded: 0,
    failed: 0,
    pendingSlice: null,
    armedFirstImage: false,
    cleanups: [],
    inflight: new Set(),
    lastVoi: null,
    wlTimer: null,
  };

  // ---- DOM ---------------------------------------------------------------
  const root = el('div', 'rsv-root');
  element.appendChild(root);
  const vpEl = el('div', 'rsv-viewport', root);
  vpEl.tabIndex = 0;
  vpEl.setAttribute('role', 'application');
  vpEl.setAttribute('aria-label', 'CT image viewer: wheel or arrow keys change slice, drag to adjust window');
  vpEl.addEventListener('contextmenu', (e) => e.preventDefault());
  const ui = {
    slice: el('div', 'rsv-text rsv-tl rsv-slice', vpEl),
    status: el('div', 'rsv-text rsv-tr rsv-status', vpEl),
    wl: el('div', 'rsv-text rsv-br rsv-wl', vpEl),
    colorbars: el('div', 'rsv-bl rsv-colorbars', vpEl),
    message: el('div', 'rsv-message', vpEl),
    scrollbar: el('div', 'rsv-scrollbar', vpEl),
  };
  ui.slice.setAttribute('aria-live', 'polite');
  ui.thumb = el('div', 'rsv-scrollbar-thumb', ui.scrollbar);
  ui.message.textContent = 'Loading…';
  // The loader's preview (first slice painted from its raw frame) stays on top of
  // the Cornerstone canvas until the first Cornerstone render.
  const preview = session.preview || null;
  if (preview) {
    vpEl.appendChild(preview.canvas);
    preview.painted.then(() => {
      if (state.firstImageMs === null) ui.message.hidden = true;
    });
  }
  const layer = new OverlayLayer(vpEl, ui.colorbars);
  const { promise: toolsAttached, resolve: resolveTools } = deferred();
  const sbs = new SideBySide({
    root,
    mainEl: vpEl,
    mainLayer: layer,
    engine: () => state.renderingEngine,
    viewport: () => state.viewport,
    imageIds: () => state.imageIds,
    viewportId: state.viewportId,
    renderingEngineId: state.renderingEngineId,
    toolGroupId: state.toolGroupId,
    loadTools: () => toolsAttached.then(loadTools),
    onChange: (st) => {
      // The fitted view changed with the panel's width: zoom is relative to it again.
      if (state.viewport) state.zoom0 = state.viewport.getZoom?.() || 1;
      showWl();
      emit('sideBySide', st);
    },
  });

  // ---- events to the page ------------------------------------------------
  function emit(type, detail) {
    for (const fn of listeners.get(type) || []) {
      try {
        fn(detail);
      } catch (e) {
        console.error(e);
      }
    }
    if (typeof opts.onEvent === 'function') {
      try {
        opts.onEvent(type, detail);
      } catch (e) {
        console.error(e);
      }
    }
  }
  function fail(err) {
    const error = err instanceof Error ? err : new Error(String(err));
    console.error('[readerstudy viewer]', error);
    if (typeof opts.onError === 'function') opts.onError(error);
    emit('error', { message: error.message });
    return error;
  }

  const { promise: ready, resolve: resolveReady, reject: rejectReady } = deferred();
  const { promise: loaded, resolve: resolveLoaded } = deferred();
  ready.catch(() => {});

  // ---- text overlays -----------------------------------------------------
  function showSlice(index) {
    const n = state.count;
    ui.slice.textContent = n ? `Slice ${index + 1} / ${n}` : '';
    if (n > 1) {
      ui.thumb.style.height = `${Math.max(100 / n, 2)}%`;
      ui.thumb.style.top = `${(index / n) * 100}%`;
    }
  }
  // Zoom relative to the fitted view at first display (the CPU renderer's
  // getZoom() is not 1 there).
  function relZoom() {
    const z = state.viewport?.getZoom?.() || 1;
    return state.zoom0 ? z / state.zoom0 : 1;
  }
  function showWl() {
    const vp = state.viewport;
    if (!vp) return;
    const { voiRange } = vp.getProperties();
    if (!voiRange) return;
    const ww = voiRange.upper - voiRange.lower;
    const wc = (voiRange.upper + voiRange.lower) / 2;
    const p = presetForRange(voiRange);
    const zoom = Math.round(relZoom() * 100);
    ui.wl.textContent = `${p ? PRESETS[p].label + '  ' : ''}W ${Math.round(ww)} L ${Math.round(wc)}${state.invert ? '  inv' : ''}  ${zoom}%`;
  }
  function showStatus() {
    const n = state.count;
    if (!n) return;
    if (state.loaded + state.failed < n) ui.status.textContent = `Loading ${state.loaded}/${n}`;
    else if (state.failed) ui.status.textContent = `${state.failed} slice(s) failed to load`;
    else ui.status.textContent = '';
  }

  // ---- loading the frames -------------------------------------------------
  // SeriesFetch fetches the bytes (initial slice first, then nearest-first);
  // each frame is decoded as soon as it lands (worker), in landing order.
  function decode(index) {
    const imageId = state.imageIds[index];
    const p = imageLoader
      .loadAndCacheImage(imageId, { requestType: csEnums.RequestType.Prefetch, priority: 0 })
      .then(
        () => {
          state.loaded += 1;
        },
        (err) => {
          state.failed += 1;
          console.warn('[readerstudy viewer] slice failed to load', index, err);
        },
      )
      .finally(() => {
        frameBytes.delete(imageId);
        state.inflight.delete(p);
        if (state.destroyed) {
          purgeImage(imageId);
          return;
        }
        showStatus();
        emit('progress', { loaded: state.loaded, failed: state.failed, count: state.count });
        if (state.loaded + state.failed === state.count) allDone();
      });
    state.inflight.add(p);
    return p;
  }
  let firstFrame = null;
  const held = [];
  function onFrame(index, res) {
    if (state.destroyed) return;
    const imageId = state.imageIds[index];
    if (!res.error) {
      try {
        const part = extractMultipart(res.contentType, new Uint8Array(res.buffer));
        const transferSyntaxUid = getTransferSyntaxForContentType(part.contentType);
        frameBytes.set(imageId, { pixelData: part.pixelData, transferSyntaxUid });
      } catch (err) {
        console.warn('[readerstudy viewer] frame not understood, loading it again', index, err);
      }
    } // else: the wadors loader requests it itself (one more try)
    if (index === session.first && firstFrame) firstFrame.resolve();
    else if (state.stackSet) decode(index);
    else held.push(index);
  }
  function allDone() {
    if (state.allLoadedMs !== null) return;
    if (state.loadDoneMs === undefined) state.loadDoneMs = performance.now() - t0;
    // A tiny series can be cached before its first frame is on screen: report
    // once both happened (and the mouse tools are attached), so onReady always
    // carries both numbers and the viewer is fully interactive by then.
    if (state.firstImageMs === null || !state.toolsReady) return;
    state.allLoadedMs = Math.max(state.loadDoneMs, state.firstImageMs);
    const info = {
      firstImageMs: state.firstImageMs,
      allLoadedMs: state.allLoadedMs,
      metadataMs: state.metadataMs,
      count: state.count,
      failed: state.failed,
      renderer: getShouldUseCPURendering() ? 'cpu' : 'webgl',
    };
    performance.mark(MARKS.allLoaded, { detail: info });
    resolveLoaded(info);
    emit('loaded', info);
    if (typeof opts.onReady === 'function') opts.onReady(info);
  }
  function purgeImage(imageId) {
    try {
      if (cache.getImageLoadObject(imageId) || cache.getImage(imageId)) cache.removeImageLoadObject(imageId);
    } catch {
      /* not cached */
    }
  }

  // ---- cornerstone events ---------------------------------------------------
  function listen(target, type, fn) {
    target.addEventListener(type, fn);
    state.cleanups.push(() => target.removeEventListener(type, fn));
  }
  function onRendered() {
    layer.draw();
    if (state.armedFirstImage && state.firstImageMs === null) {
      state.zoom0 = state.viewport.getZoom?.() || 1;
      showWl();
      state.firstImageMs = performance.now() - t0;
      performance.mark(MARKS.firstImage, { detail: { firstImageMs: state.firstImageMs, count: state.count } });
      ui.message.textContent = '';
      ui.message.hidden = true;
      if (preview) preview.done(state.firstImageMs);
      else performance.mark(MARKS.firstPaint, { detail: { firstPaintMs: state.firstImageMs, source: 'cornerstone' } });
      resolveReady({ firstImageMs: state.firstImageMs, count: state.count });
      emit('firstImage', { firstImageMs: state.firstImageMs });
      if (state.loadDoneMs !== undefined) allDone();
    }
  }
  function sameRange(a, b) {
    return a && b && Math.abs(a.lower - b.lower) < 1e-6 && Math.abs(a.upper - b.upper) < 1e-6;
  }
  function onNewImage(e) {
    const vp = state.viewport;
    // The CPU fallback path resets the viewport's voiRange to each image's own
    // DICOM window right after this event (without a VOI_MODIFIED event);
    // put ours back once that synchronous update is done.
    queueMicrotask(() => {
      if (state.destroyed || !state.voi || sameRange(vp.getProperties().voiRange, state.voi)) return;
      vp.setProperties({ voiRange: state.voi }, true);
      vp.render();
      showWl();
    });
    const index = e.detail?.imageIdIndex ?? vp.getCurrentImageIdIndex();
    session.setCurrent(index);
    showSlice(index);
    sbs.follow(index);
    if (typeof opts.onSliceChange === 'function') opts.onSliceChange(index, state.count);
    emit('slice', { index, count: state.count, position: state.sorted?.[index]?.position ?? null });
  }
  function onVoi() {
    if (!state.started) return; // the default DICOM window set by setStack, replaced below
    const vp = state.viewport;
    const { voiRange } = vp.getProperties();
    if (voiRange) state.voi = { lower: voiRange.lower, upper: voiRange.upper };
    const p = presetForRange(voiRange);
    showWl();
    if (p !== state.preset) {
      state.preset = p;
      emit('preset', { name: p });
    }
    clearTimeout(state.wlTimer);
    state.wlTimer = setTimeout(() => {
      if (!voiRange || state.destroyed) return;
      const detail = {
        center: (voiRange.upper + voiRange.lower) / 2,
        width: voiRange.upper - voiRange.lower,
        preset: p,
      };
      emit('windowLevel', detail);
    }, 250);
  }

  // ---- keyboard -------------------------------------------------------------
  function onKey(e) {
    // (No defaultPrevented check: Cornerstone's own keydown listener on the
    // viewport element calls preventDefault on every key.)
    if (state.destroyed || !state.viewport) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (isEditable(e.target)) return;
    const onControl = e.target instanceof Element && e.target.closest('button, a[href], [role="button"], summary');
    const n = state.count;
    const cur = state.viewport.getCurrentImageIdIndex();
    let handled = true;
    switch (e.key) {
      case 'ArrowUp':
      case 'PageUp':
        api.setSlice(cur - 1);
        break;
      case 'ArrowDown':
      case 'PageDown':
        api.setSlice(cur + 1);
        break;
      case 'Home':
        api.setSlice(0);
        break;
      case 'End':
        api.setSlice(n - 1);
        break;
      case '1':
      case '2':
      case '3':
      case '4':
        api.setPreset(PRESET_ORDER[Number(e.key) - 1]);
        break;
      case 'r':
      case 'R':
        api.reset();
        break;
      case 'i':
      case 'I':
        api.setInvert(!state.invert);
        break;
      case ' ':
      case 'c':
      case 'C':
        if (onControl && e.key === ' ') {
          handled = false; // let space activate the focused button
          break;
        }
        api.toggleCine();
        break;
      default:
        handled = false;
    }
    if (handled) e.preventDefault();
  }
  if (opts.hotkeys) {
    const target = opts.hotkeys instanceof EventTarget ? opts.hotkeys : document;
    listen(target, 'keydown', onKey);
  }

  // ---- resize ---------------------------------------------------------------
  let resizeRaf = 0;
  const ro = new ResizeObserver(() => {
    cancelAnimationFrame(resizeRaf);
    resizeRaf = requestAnimationFrame(() => {
      if (!state.renderingEngine || state.destroyed) return;
      state.renderingEngine.resize(true, true);
      layer.draw();
    });
  });
  ro.observe(vpEl);
  state.cleanups.push(() => ro.disconnect());

  // ---- loading --------------------------------------------------------------
  async function start() {
    initCornerstone(opts, session.takeWorkers ? session.takeWorkers() : []);
    const { sorted } = await session.metadata;
    if (state.destroyed) return;
    state.imageIds = session.urls.map((u) => `wadors:${u}`);
    state.sorted = sorted.map((s) => ({ sopInstanceUID: s.sopInstanceUID, frame: s.frame, position: s.position }));
    state.count = state.imageIds.length;
    if (!state.count) throw new Error('the series has no images');
    sorted.forEach((s, i) => {
      if (s.frame === 1) wadors.metaDataManager.add(state.imageIds[i], s.instance);
    });
    state.metadataMs = session.metadataMs; // MARKS.metadata is set by SeriesFetch

    const first = session.first;
    let resolveFirst;
    firstFrame = { promise: new Promise((r) => (resolveFirst = r)) };
    firstFrame.resolve = resolveFirst;
    session.attach(onFrame);

    const engine = new RenderingEngine(state.renderingEngineId);
    state.renderingEngine = engine;
    engine.enableElement({
      viewportId: state.viewportId,
      type: csEnums.ViewportType.STACK,
      element: vpEl,
      defaultOptions: { background: [0, 0, 0] },
    });
    const vp = engine.getViewport(state.viewportId);
    state.viewport = vp;
    layer.attach(vp, state.imageIds);
    for (const err of layer.revalidate()) fail(err);

    const E = csEnums.Events;
    listen(vpEl, E.IMAGE_RENDERED, onRendered);
    listen(vpEl, E.STACK_NEW_IMAGE, onNewImage);
    listen(vpEl, E.VOI_MODIFIED, onVoi);
    listen(vpEl, E.CAMERA_MODIFIED, showWl);

    const n = state.count;
    showSlice(first);
    showStatus();

    // The initial slice's bytes were requested first: wait for them, so the
    // viewport's own load finds them instead of requesting the frame again.
    await firstFrame.promise;
    if (state.destroyed) return;
    // Until the first render is done and the mouse tools are loaded (main thread
    // busy), prefetched frames are decoded in the worker (decode.js).
    setPrefetchOnMainThread(false);
    const stackSet = vp.setStack(state.imageIds, first);
    state.stackSet = true;
    for (const i of held.splice(0)) decode(i);
    await stackSet;
    if (state.destroyed) return;
    state.started = true;
    vp.setProperties({ voiRange: voiRangeFor(PRESETS[state.preset] || PRESETS[DEFAULT_PRESET]), invert: state.invert });
    state.armedFirstImage = true;
    vp.render();
    showWl();
    decode(first); // already cached by setStack: counts it
    if (typeof opts.onSliceChange === 'function') opts.onSliceChange(first, n);
    if (state.pendingSlice !== null) {
      const want = state.pendingSlice;
      state.pendingSlice = null;
      api.setSlice(want);
    }
    await ready;
    if (state.destroyed) return;
    const tools = await loadTools();
    if (state.destroyed) return;
    tools.attachTools(state.toolGroupId, state.viewportId, state.renderingEngineId, vpEl);
    state.toolsReady = true;
    resolveTools();
    setPrefetchOnMainThread(true);
    if (state.loadDoneMs !== undefined) allDone();
  }

  start().catch((err) => {
    if (state.destroyed) return;
    const e = fail(err);
    ui.message.hidden = false;
    ui.message.textContent = `Could not load the series (${e.message})`;
    rejectReady(e);
  });

  // ---- public handle --------------------------------------------------------
  const api = {
    element: root,
    ready,
    loaded,
    presets: PRESETS,

    getSliceCount: () => state.count,
    /** {index, sopInstanceUID, frame, position (mm along the slice normal)} of a slice (default: current). */
    getSliceInfo(index) {
      const i = index === undefined ? api.getSlice() : index;
      const s = state.sorted && state.sorted[i];
      return s ? { index: i, ...s } : null;
    },
    getSlice() {
      if (!state.started) return state.pendingSlice ?? (state.count ? session.first : null);
      return state.viewport.getCurrentImageIdIndex();
    },
    setSlice(index) {
      const i = Math.round(Number(index));
      if (!Number.isFinite(i)) throw new TypeError('setSlice(index): index must be a number');
      if (!state.started) {
        // Before the stack is set (the viewport may exist already): applied then.
        state.pendingSlice = i;
        if (!session.count) session.opts.pendingSlice = i;
        if (preview) preview.show(i);
        return Promise.resolve(i);
      }
      const c = Math.min(state.count - 1, Math.max(0, i));
      if (c === state.viewport.getCurrentImageIdIndex()) return Promise.resolve(c);
      return state.viewport.setImageIdIndex(c).then(() => c);
    },
    setPreset(name) {
      const key = resolvePreset(name);
      if (!key) throw new Error(`unknown preset "${name}" (known: ${PRESET_ORDER.join(', ')})`);
      state.preset = key;
      if (preview && !state.started) preview.repaint();
      if (state.viewport) {
        state.viewport.setProperties({ voiRange: voiRangeFor(PRESETS[key]) });
        state.viewport.render();
      }
      emit('preset', { name: key, source: 'api' });
      return key;
    },
    getPreset: () => state.preset,
    setWindow(center, width) {
      if (!state.viewport) return;
      state.viewport.setProperties({ voiRange: { lower: center - width / 2, upper: center + width / 2 } });
      state.viewport.render();
    },
    setInvert(on) {
      state.invert = Boolean(on);
      if (state.viewport) {
        state.viewport.setProperties({ invert: state.invert });
        state.viewport.render();
        showWl();
      }
      emit('invert', { on: state.invert });
    },
    reset() {
      const key = resolvePreset(opts.initialPreset) || DEFAULT_PRESET;
      state.preset = key;
      state.invert = false;
      if (state.viewport) {
        state.viewport.resetCamera();
        state.viewport.setProperties({ voiRange: voiRangeFor(PRESETS[key]), invert: false });
        state.viewport.render();
      }
      emit('reset', { preset: key });
      emit('preset', { name: key, source: 'reset' });
      emit('invert', { on: false });
    },
    playCine(fps) {
      if (fps) state.cineFps = clampFps(fps) || state.cineFps;
      api.stopCine(true);
      if (!state.viewport || state.count < 2) return;
      state.cineTimer = setInterval(() => {
        const vp = state.viewport;
        if (!vp) return;
        const next = (vp.getCurrentImageIdIndex() + 1) % state.count;
        vp.setImageIdIndex(next).catch(() => {});
      }, 1000 / state.cineFps);
      emit('cine', { playing: true, fps: state.cineFps });
    },
    stopCine(silent) {
      const was = state.cineTimer !== null;
      clearInterval(state.cineTimer);
      state.cineTimer = null;
      if (was && silent !== true) emit('cine', { playing: false, fps: state.cineFps });
    },
    toggleCine() {
      if (state.cineTimer !== null) api.stopCine();
      else api.playCine();
    },
    isCinePlaying: () => state.cineTimer !== null,
    /** Cine speed in frames per second (1-60); takes effect at once while playing. */
    setCineFps(fps) {
      const f = clampFps(fps);
      if (!f) throw new TypeError('setCineFps(fps): fps must be a number from 1 to 60');
      if (f === state.cineFps) return f;
      state.cineFps = f;
      if (state.cineTimer !== null) api.playCine();
      else emit('cine', { playing: false, fps: f });
      return f;
    },
    getCineFps: () => state.cineFps,

    setOverlay(name, overlay) {
      layer.set(name, overlay);
      emit('overlay', { name, action: overlay == null ? 'removed' : 'set', ...layer.state() });
    },
    setOverlayOpacity(name, opacity) {
      layer.setOpacity(name, opacity);
      emit('overlay', { name, action: 'opacity', opacity: Number(opacity), ...layer.state() });
    },
    setOverlayVisible(name, visible) {
      layer.setVisible(name, visible);
      emit('overlay', { name, action: visible ? 'shown' : 'hidden', ...layer.state() });
    },
    setMaskOutline(mask) {
      layer.setMask(mask);
      emit('overlay', { name: 'mask', action: mask == null ? 'removed' : 'set', ...layer.state() });
    },
    setMaskVisible(visible) {
      layer.setMaskVisible(visible);
      emit('overlay', { name: 'mask', action: visible ? 'shown' : 'hidden', ...layer.state() });
    },
    getOverlays: () => layer.state(),
    /**
     * Side-by-side mode: original | saliency (the maps set with setOverlay) |
     * ground truth (`truthMask`, an overlay volume drawn as an outline, only
     * when given); same slice, zoom/pan and window in every panel.
     * `setSideBySide(null)` or `false` goes back to the single viewport. Promise.
     */
    async setSideBySide(options) {
      if (!options) {
        sbs.disable();
        return sbs.state();
      }
      const truthMask = options.truthMask || null;
      if (truthMask) normaliseOverlay(truthMask, state.count || null, { mask: true }); // throws on a bad volume
      await ready;
      if (state.destroyed) return sbs.state();
      await sbs.enable({ truthMask });
      return sbs.state();
    },
    getSideBySide: () => sbs.state(),
    /** Marks on this stack (see marks.js): a Promise of its controller, made once. */
    marks(onChange) {
      if (!state.marks) {
        state.marks = toolsAttached.then(loadMarks).then((m) => {
          if (state.destroyed) throw new Error('destroyed');
          return m.createMarks({
            element: vpEl,
            viewport: state.viewport,
            toolGroupId: state.toolGroupId,
            viewportId: state.viewportId,
            imageIds: state.imageIds,
            sorted: state.sorted,
            onChange: (detail) => emit('marks', detail || {}),
          });
        });
      }
      if (onChange) api.on('marks', onChange);
      return state.marks;
    },

    getState() {
      const vp = state.viewport;
      const voi = vp ? vp.getProperties().voiRange : null;
      return {
        slice: api.getSlice(),
        count: state.count,
        preset: state.preset,
        window: voi ? { center: (voi.upper + voi.lower) / 2, width: voi.upper - voi.lower } : null,
        invert: state.invert,
        zoom: vp ? relZoom() : null,
        cine: state.cineTimer !== null,
        cineFps: state.cineFps,
        tools: Boolean(state.toolsReady),
        loaded: state.loaded,
        failed: state.failed,
        timings: { firstImageMs: state.firstImageMs, allLoadedMs: state.allLoadedMs, metadataMs: state.metadataMs },
        ...layer.state(),
        sideBySide: sbs.state(),
      };
    },
    on(type, fn) {
      if (!listeners.has(type)) listeners.set(type, new Set());
      listeners.get(type).add(fn);
      return () => listeners.get(type)?.delete(fn);
    },
    destroy() {
      if (state.destroyed) return;
      api.stopCine(true);
      state.destroyed = true;
      session.destroy();
      held.length = 0;
      clearTimeout(state.wlTimer);
      cancelAnimationFrame(resizeRaf);
      try {
        sbs.disable();
      } catch (e) {
        console.warn(e);
      }
      for (const fn of state.cleanups.splice(0)) fn();
      if (state.marks) state.marks.then((m) => m.destroy(), () => {});
      if (toolsApi) toolsApi.destroyTools(state.toolGroupId);
      if (firstFrame) firstFrame.resolve();
      if (preview) preview.destroy();
      try {
        state.renderingEngine?.destroy();
      } catch (e) {
        console.warn(e);
      }
      layer.destroy();
      const ids = state.imageIds;
      // Drop queued (not yet sent) requests for this series from both pools.
      const idSet = new Set(ids);
      for (const pool of [imageRetrievalPoolManager, imageLoadPoolManager]) {
        pool.filterRequests((r) => !idSet.has(r.additionalDetails?.imageId));
      }
      for (const imageId of ids) {
        frameBytes.delete(imageId);
        purgeImage(imageId);
        wadors.metaDataManager.remove(imageId);
      }
      mounted.delete(api);
      if (mounted.size === 0) cache.purgeCache();
      // Loads still in flight land in the cache later: drop them when they settle.
      Promise.allSettled([...state.inflight]).then(() => {
        for (const imageId of ids) purgeImage(imageId);
        if (mounted.size === 0) cache.purgeCache();
      });
      state.viewport = null;
      state.renderingEngine = null;
      listeners.clear();
      root.remove();
      rejectReady(new Error('destroyed'));
    },
  };
  mounted.add(api);
  return api;
}

function clampFps(fps) {
  const f = Math.round(Number(fps));
  return Number.isFinite(f) && f > 0 ? Math.min(60, Math.max(1, f)) : null;
}

/** Bytes currently held by the Cornerstone image cache (for tests/benchmarks). */
export function cacheBytes() {
  return cache.getCacheSize();
}

export { eventTarget };
