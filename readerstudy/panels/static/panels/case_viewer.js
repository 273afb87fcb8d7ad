// Mounts the platform's viewer on a panel case page: the series named by the element's
// data-study-uid / data-series-uid, with the standard toolbar. On an annotation page with
// slice labels or a hematoma mask the viewer's marks panel (ReaderstudyViewer.buildMarksPanel:
// slice marks, brush / threshold segmentation uploaded to the panel) fills the form's hidden
// fields; on the adjudication page "Show slice" buttons jump to a slice.
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

  const marksHost = document.getElementById('pn-marks');
  const optionsScript = document.getElementById('pn-slice-options');
  const sliceField = document.getElementById('id_slice_labels');
  const maskField = document.getElementById('id_hematoma_mask');
  let marks = null;
  const parsed = (input, fallback) => {
    try {
      return input && input.value ? JSON.parse(input.value) : fallback;
    } catch {
      return fallback;
    }
  };
  if (marksHost && (sliceField || maskField)) {
    const tools = [];
    if (sliceField) tools.push('slice');
    if (maskField) tools.push('brush');
    const options = optionsScript ? JSON.parse(optionsScript.textContent) : [];
    const question = { code: 'panel', options, config: { tools } };
    const form = marksHost.closest('form');
    const csrf = form.querySelector('input[name=csrfmiddlewaretoken]');
    marks = window.ReaderstudyViewer.buildMarksPanel(viewer, marksHost, question, {
      apiBase: (marksHost.dataset.apiBase || '').replace(/\/$/, ''),
      csrf: csrf ? csrf.value : '',
    });
    marks.setValue({ slice_marks: parsed(sliceField, []), segmentation: parsed(maskField, null) });
    if (!form.querySelector('button[type="submit"]')) marks.setReadOnly(true);
    let sending = false;
    form.addEventListener('submit', (event) => {
      if (sending) return;
      event.preventDefault();
      // a mask still uploading is waited for, so the annotation names the last one drawn
      // (a failed upload is shown in the panel; the server then names what is missing)
      marks.flush().catch(() => undefined).then(() => {
        const value = marks.value();
        if (sliceField) sliceField.value = JSON.stringify(value.slice_marks);
        if (maskField) maskField.value = JSON.stringify(value.segmentation);
        sending = true;
        form.submit();
      });
    });
  }
  window.readerstudyPanel = { viewer, marks };

  for (const button of document.querySelectorAll('button[data-slice]')) {
    button.addEventListener('click', () => viewer.setSlice(Number(button.dataset.slice)));
  }
  window.addEventListener('pagehide', () => {
    if (marks) marks.destroy();
    viewer.destroy();
  });
})();
