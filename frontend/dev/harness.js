// Dev harness page logic: mounts ReaderstudyViewer on a series of serve.py and
// simulates what the Django page does after the unaided answer is locked
// (fetch overlays, hand them to the viewer). State for Playwright: window.__rsv.
(function () {
  'use strict';
  const RV = window.ReaderstudyViewer;
  const params = new URLSearchParams(location.search);
  const logEl = document.getElementById('log');
  const state = (window.__rsv = { handle: null, toolbar: null, events: [], ready: null, errors: [], series: null });

  function log(line) {
    logEl.textContent = `${line}\n${logEl.textContent}`.slice(0, 4000);
  }

  async function loadOverlay(kind) {
    const se = state.series.series;
    const grid = params.get('grid') || '64';
    const [desc, buf] = await Promise.all([
      fetch(`/dev/overlay/${se}/${kind}.json?grid=${grid}`).then((r) => r.json()),
      fetch(`/dev/overlay/${se}/${kind}.bin?grid=${grid}`).then((r) => r.arrayBuffer()),
    ]);
    const data = new Uint8Array(buf);
    if (kind === 'mask') state.handle.setMaskOutline({ ...desc, data });
    else state.handle.setOverlay(kind, { descriptor: desc, data });
  }
  state.loadOverlay = loadOverlay;

  function mountSeries(info) {
    if (state.handle) state.handle.destroy();
    if (state.toolbar) state.toolbar.destroy();
    state.series = info;
    state.ready = null;
    state.events = [];
    const handle = RV.mount(document.getElementById('viewer'), {
      dicomwebRoot: '/dicomweb',
      studyUID: info.study,
      seriesUID: info.series,
      initialSlice: params.get('slice') === null ? 'middle' : Number(params.get('slice')),
      maxWebWorkers: params.get('workers') ? Number(params.get('workers')) : undefined,
      prefetchConcurrency: params.get('prefetch') ? Number(params.get('prefetch')) : undefined,
      onSliceChange(i, n) {
        state.lastSlice = [i, n];
      },
      onReady(t) {
        state.ready = t;
        log(`ready: first image ${t.firstImageMs.toFixed(0)} ms, all ${t.count} slices ${t.allLoadedMs.toFixed(0)} ms (${t.renderer})`);
      },
      onEvent(type, detail) {
        if (type !== 'progress') state.events.push([type, detail]);
        if (type !== 'progress' && type !== 'slice') log(`${type} ${JSON.stringify(detail)}`);
      },
      onError(e) {
        state.errors.push(String(e && e.message));
        log(`error ${e.message}`);
      },
    });
    state.handle = handle;
    state.toolbar = RV.buildToolbar(handle, document.getElementById('toolbar'));
  }
  state.mountSeries = mountSeries;

  document.getElementById('ov-heatmap').onclick = () => loadOverlay('heatmap');
  document.getElementById('ov-signed').onclick = () => loadOverlay('signed');
  document.getElementById('ov-mask').onclick = () => loadOverlay('mask');
  document.getElementById('ov-clear').onclick = () => {
    state.handle.setOverlay('heatmap', null);
    state.handle.setOverlay('signed', null);
    state.handle.setMaskOutline(null);
  };
  document.getElementById('destroy').onclick = () => {
    state.handle && state.handle.destroy();
    state.toolbar && state.toolbar.destroy();
    state.handle = state.toolbar = null;
  };
  document.getElementById('remount').onclick = () => mountSeries(state.series);

  fetch('/dev/series.json')
    .then((r) => r.json())
    .then((list) => {
      const sel = document.getElementById('series');
      for (const s of list) {
        const o = document.createElement('option');
        o.value = s.series;
        o.textContent = `${s.count} x ${s.rows}x${s.cols} ${s.description}`;
        sel.appendChild(o);
      }
      const wanted = params.get('series') || (params.get('n') && (list.find((s) => String(s.count) === params.get('n')) || {}).series);
      const info = list.find((s) => s.series === wanted) || list[0];
      sel.value = info.series;
      sel.onchange = () => mountSeries(list.find((s) => s.series === sel.value));
      mountSeries(info);
    });
})();
