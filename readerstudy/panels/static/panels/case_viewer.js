// Mounts the platform's viewer on a panel case page: the series named by the element's
// data-study-uid / data-series-uid, with the standard toolbar.
(function () {
  'use strict';
  const host = document.getElementById('pn-viewer');
  const toolbar = document.getElementById('pn-toolbar');
  if (!host || !window.ReaderstudyViewer || !host.dataset.seriesUid) return;
  const viewer = window.ReaderstudyViewer.mount(host, {
    dicomwebRoot: host.dataset.dicomwebRoot || '/dicomweb',
    studyUID: host.dataset.studyUid,
    seriesUID: host.dataset.seriesUid,
  });
  if (toolbar) window.ReaderstudyViewer.buildToolbar(viewer, toolbar);
  window.addEventListener('pagehide', () => viewer.destroy());
})();
