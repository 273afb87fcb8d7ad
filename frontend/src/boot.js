// Series loading that does not need Cornerstone: the series metadata and the
// frame bytes, fetched with fetch() as soon as mount() is called, in parallel
// with the import of the viewer core. The initial slice is requested first,
// then the others nearest-first around the slice on screen, with at most
// `concurrency` requests in flight (no per-slice round-trips in series).
// The core decodes the bytes (see viewer.js: attach()).
import { sortInstances } from './sort.js';

export const FRAME_ACCEPT = 'multipart/related; type=application/octet-stream; transfer-syntax=*';

function trimSlash(s) {
  return String(s).replace(/\/+$/, '');
}

export function initialIndex(initialSlice, n) {
  const s = initialSlice;
  const i = s === 'first' ? 0 : s === 'last' ? n - 1 : Number.isInteger(s) ? s : Math.floor((n - 1) / 2);
  return Math.min(n - 1, Math.max(0, i));
}

export class SeriesFetch {
  /** opts: dicomwebRoot, studyUID, seriesUID, initialSlice, prefetchConcurrency, fetchOptions */
  constructor(opts) {
    this.opts = opts;
    this.controller = new AbortController();
    this.root = trimSlash(new URL(opts.dicomwebRoot || '/dicomweb', location.href).href);
    this.seriesUrl = `${this.root}/studies/${encodeURIComponent(opts.studyUID)}/series/${encodeURIComponent(opts.seriesUID)}`;
    this.concurrency = Math.max(1, Number(opts.prefetchConcurrency) || 6);
    this.count = 0;
    this.first = 0;
    this.current = 0;
    this.urls = [];
    this.pending = new Set();
    this.inflight = 0;
    this.arrived = new Map(); // index -> {buffer, contentType} | {error}, until attach()
    this.sink = null;
    this.observer = null;
    this.destroyed = false;
    this.t0 = performance.now();
    this.metadata = this.fetchMetadata();
    this.metadata.catch(() => {});
  }

  fetchInit(accept) {
    const fo = this.opts.fetchOptions || {};
    return {
      credentials: 'same-origin',
      ...fo,
      headers: { Accept: accept, ...(fo.headers || {}) },
      signal: this.controller.signal,
    };
  }

  async fetchMetadata() {
    const resp = await fetch(`${this.seriesUrl}/metadata`, this.fetchInit('application/dicom+json'));
    if (!resp.ok) throw new Error(`series metadata: HTTP ${resp.status}`);
    const instances = await resp.json();
    if (this.destroyed) throw new Error('destroyed');
    const sorted = sortInstances(instances);
    this.count = sorted.length;
    this.urls = sorted.map(
      (s) => `${this.seriesUrl}/instances/${encodeURIComponent(s.sopInstanceUID)}/frames/${s.frame}`,
    );
    const wanted = this.opts.pendingSlice ?? this.opts.initialSlice;
    this.first = this.count ? initialIndex(wanted, this.count) : 0;
    this.current = this.first;
    for (let i = 0; i < this.count; i++) this.pending.add(i);
    this.metadataMs = performance.now() - this.t0;
    performance.mark('readerstudy-viewer:metadata', { detail: { metadataMs: this.metadataMs, count: this.count } });
    this.pump();
    return { instances, sorted };
  }

  /** The slice on screen: later requests go out nearest-first around it. */
  setCurrent(index) {
    if (Number.isInteger(index)) this.current = index;
  }

  pump() {
    while (!this.destroyed && this.inflight < this.concurrency && this.pending.size) {
      const cur = this.current;
      let best = -1;
      for (let d = 0; d < this.count && best < 0; d++) {
        if (this.pending.has(cur + d)) best = cur + d;
        else if (this.pending.has(cur - d)) best = cur - d;
      }
      if (best < 0) best = this.pending.values().next().value;
      this.pending.delete(best);
      this.fetchFrame(best);
    }
  }

  fetchFrame(index) {
    this.inflight += 1;
    const init = this.fetchInit(FRAME_ACCEPT);
    if (index === this.first) init.priority = 'high';
    fetch(this.urls[index], init)
      .then(async (resp) => {
        if (!resp.ok) throw new Error(`frame ${index + 1}: HTTP ${resp.status}`);
        const buffer = await resp.arrayBuffer();
        return { buffer, contentType: resp.headers.get('Content-Type') || 'application/octet-stream' };
      })
      .then(
        (res) => this.deliver(index, res),
        (error) => this.deliver(index, { error }),
      )
      .finally(() => {
        this.inflight -= 1;
        this.pump();
      });
  }

  deliver(index, res) {
    if (this.destroyed) return;
    if (this.observer) this.observer(index, res);
    if (this.sink) this.sink(index, res);
    else this.arrived.set(index, res);
  }

  /** Also show every frame from now on to fn(index, res) first (the loader's preview); null: stop. */
  observe(fn) {
    this.observer = fn;
  }

  /** Hand every frame (arrived so far and later) to sink(index, {buffer, contentType} | {error}). */
  attach(sink) {
    this.sink = sink;
    const arrived = [...this.arrived];
    this.arrived.clear();
    for (const [i, res] of arrived) sink(i, res);
  }

  destroy() {
    this.destroyed = true;
    this.pending.clear();
    this.arrived.clear();
    this.sink = null;
    this.observer = null;
    this.controller.abort();
  }
}
