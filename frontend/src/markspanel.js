// ReaderstudyViewer.buildMarksPanel(handle, container, question, options): the side panel of a
// marks question: its tools (with keyboard shortcuts), the rating of new marks, the list of
// marks (jump to, edit rating, delete), slice marks of the current slice, the segmentation
// (brush, threshold fill in an HU window, eraser, undo/redo; uploaded as a mask once the
// reader pauses) and the model's marks (read-only, own colour).
// Returns {element, value(), setValue(v), flush(), setModelMarks(list), setReadOnly(on), destroy()}.
import { answerValue, defaultRating, emptyValue, marksConfig, toggleSliceMark, toolForKey } from './marksdata.js';

const TOOL_LABELS = {
  point: ['Point', 'P'],
  ellipse: ['Ellipse', 'E'],
  rectangle: ['Rectangle', 'Q'],
  brush: ['Brush', 'B'],
  threshold: ['Threshold fill', 'T'],
  eraser: ['Eraser', 'X'],
};
const UPLOAD_DELAY_MS = 1200;
let uid = 0;

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function isEditable(target) {
  return target instanceof Element && Boolean(target.closest('input, textarea, select, [contenteditable="true"]'));
}

async function gzip(bytes) {
  if (typeof CompressionStream === 'undefined') return bytes;
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export function buildMarksPanel(handle, container, question, options = {}) {
  if (!handle || typeof handle.marks !== 'function') throw new TypeError('buildMarksPanel(handle, ...): handle from mount()');
  const config = marksConfig(question);
  const labels = question.options || [];
  const allowed = config.tools;
  const base = options.apiBase; // e.g. /api/reading/assignments/12
  const id = ++uid;
  let ctl = null;
  let sliceMarks = [];
  let segmentation = null;
  let pending = emptyValue(); // before the controller is there
  let readOnly = false;
  let uploadTimer = null;
  let uploading = Promise.resolve();
  let segDirty = false;
  let modelMarks = [];
  const changed = () => typeof options.onChange === 'function' && options.onChange();

  const root = el('div', 'rs-marks');
  root.dataset.testid = `marks-${question.code}`;
  container.appendChild(root);

  // --- tools -----------------------------------------------------------------------------
  const tools = el('div', 'rs-marks-tools');
  tools.setAttribute('role', 'toolbar');
  tools.setAttribute('aria-label', 'Marking tools');
  const toolButtons = {};
  const addTool = (name) => {
    const [label, key] = TOOL_LABELS[name];
    const b = el('button', 'rs-marks-tool', label);
    b.type = 'button';
    b.title = `${label} (${key})`;
    b.dataset.tool = name;
    b.setAttribute('aria-keyshortcuts', key);
    b.setAttribute('aria-pressed', 'false');
    b.addEventListener('click', () => selectTool(ctl && ctl.getTool() === name ? null : name));
    toolButtons[name] = b;
    tools.appendChild(b);
  };
  for (const name of ['point', 'ellipse', 'rectangle']) if (allowed.includes(name)) addTool(name);
  if (allowed.includes('brush')) ['brush', 'threshold', 'eraser'].forEach(addTool);
  root.appendChild(tools);

  const rating = el('label', 'rs-marks-rating', 'Rating of new marks ');
  const ratingSelect = ratingPicker(defaultRating(config));
  ratingSelect.id = `rs-marks-rating-${id}`;
  ratingSelect.addEventListener('change', () => ctl && ctl.setNewRating(Number(ratingSelect.value)));
  rating.appendChild(ratingSelect);
  if (allowed.some((t) => ['point', 'ellipse', 'rectangle'].includes(t))) root.appendChild(rating);

  // --- segmentation controls ---------------------------------------------------------------
  const seg = el('div', 'rs-marks-seg');
  const huLow = number('rs-marks-hu-low', config.threshold_hu_low, 'Threshold lower HU');
  const huHigh = number('rs-marks-hu-high', config.threshold_hu_high, 'Threshold upper HU');
  const undo = el('button', '', 'Undo');
  undo.type = 'button';
  undo.title = 'Undo (Ctrl+Z)';
  undo.dataset.action = 'undo';
  const redo = el('button', '', 'Redo');
  redo.type = 'button';
  redo.title = 'Redo (Ctrl+Y or Ctrl+Shift+Z)';
  redo.dataset.action = 'redo';
  const segStatus = el('span', 'rs-marks-seg-status', 'No segmentation');
  segStatus.setAttribute('aria-live', 'polite');
  if (allowed.includes('brush')) {
    const hu = el('span', 'rs-marks-hu');
    hu.append('HU window ', huLow, ' – ', huHigh);
    seg.append(hu, undo, redo, segStatus);
    root.appendChild(seg);
  }
  const applyThreshold = () => {
    const lo = Number(huLow.value);
    const hi = Number(huHigh.value);
    if (ctl && Number.isFinite(lo) && Number.isFinite(hi) && lo < hi) ctl.setThreshold(lo, hi);
  };
  huLow.addEventListener('change', applyThreshold);
  huHigh.addEventListener('change', applyThreshold);
  undo.addEventListener('click', () => ctl && !readOnly && ctl.undo());
  redo.addEventListener('click', () => ctl && !readOnly && ctl.redo());

  // --- slice marks -------------------------------------------------------------------------
  const slices = el('div', 'rs-marks-slices');
  const sliceNow = el('div', 'rs-marks-slice-now');
  const sliceList = el('ul', 'rs-marks-slice-list');
  if (allowed.includes('slice') && labels.length) {
    slices.append(el('h4', '', 'Slice marks (S: first label on this slice)'), sliceNow, sliceList);
    root.appendChild(slices);
  }

  // --- the list of marks ---------------------------------------------------------------------
  const listTitle = el('h4', '', 'Marks');
  const list = el('ul', 'rs-marks-list');
  list.setAttribute('aria-label', 'Marks placed');
  const empty = el('p', 'rs-hint', 'No marks yet: pick a tool and click the lesion.');
  const modelBox = el('div', 'rs-marks-model');
  modelBox.hidden = true;
  root.append(listTitle, list, empty, modelBox);

  function ratingPicker(value) {
    const select = el('select');
    for (let r = config.rating_min; r <= config.rating_max; r++) {
      const o = el('option', '', String(r));
      o.value = String(r);
      select.appendChild(o);
    }
    select.value = String(value);
    return select;
  }

  function number(cls, value, label) {
    const input = el('input', cls);
    input.type = 'number';
    input.step = '1';
    input.value = String(value);
    input.setAttribute('aria-label', label);
    return input;
  }

  function currentUID() {
    const info = handle.getSliceInfo(handle.getSlice());
    return info ? info.sopInstanceUID : null;
  }
  function sliceNumber(uid) {
    const i = ctl ? ctl.sliceIndex(uid) : undefined;
    return i === undefined ? '?' : String(i + 1);
  }

  function selectTool(name) {
    if (!ctl || readOnly) return;
    if (name === 'slice') {
      toggleSlice(labels[0] && labels[0].value);
      return;
    }
    const now = ctl.setTool(name);
    if (now === 'threshold') applyThreshold();
    for (const [k, b] of Object.entries(toolButtons)) b.setAttribute('aria-pressed', String(k === now));
  }

  function toggleSlice(label) {
    const uid = currentUID();
    if (!label || !uid || readOnly) return;
    sliceMarks = toggleSliceMark(sliceMarks, uid, label);
    renderSlices();
    changed();
  }

  function renderSlices() {
    if (!allowed.includes('slice') || !labels.length) return;
    const uid = currentUID();
    sliceNow.replaceChildren(el('span', '', `This slice (${ctl ? handle.getSlice() + 1 : '–'}) shows: `));
    for (const o of labels) {
      const wrap = el('label', 'choice');
      const cb = el('input');
      cb.type = 'checkbox';
      cb.dataset.sliceLabel = o.value;
      cb.checked = sliceMarks.some((m) => m.sop_instance_uid === uid && m.label === o.value);
      cb.disabled = readOnly;
      cb.addEventListener('change', () => toggleSlice(o.value));
      wrap.append(cb, document.createTextNode(o.label || o.value));
      sliceNow.appendChild(wrap);
    }
    sliceList.replaceChildren();
    for (const m of sliceMarks) {
      const li = el('li');
      const go = el('button', 'rs-link', `Slice ${sliceNumber(m.sop_instance_uid)}`);
      go.type = 'button';
      go.addEventListener('click', () => jump(m.sop_instance_uid));
      const name = (labels.find((o) => o.value === m.label) || {}).label || m.label;
      li.append(go, document.createTextNode(` · ${name}`));
      sliceList.appendChild(li);
    }
  }

  function jump(uid) {
    const i = ctl && ctl.sliceIndex(uid);
    if (i !== undefined && i !== null) handle.setSlice(i);
  }

  function renderList() {
    const marks = ctl ? ctl.getMarks() : pending.marks;
    list.replaceChildren();
    marks.forEach((m, n) => {
      const li = el('li', 'rs-mark');
      li.dataset.markId = m.id;
      const what = el('span', 'rs-mark-what', `${n + 1}. ${TOOL_LABELS[m.tool][0]}, slice ${sliceNumber(m.sop_instance_uid)}`);
      const r = ratingPicker(m.rating);
      r.setAttribute('aria-label', `Rating of mark ${n + 1}`);
      r.disabled = readOnly;
      r.addEventListener('change', () => ctl && ctl.setRating(m.id, Number(r.value)));
      const go = el('button', '', 'Go');
      go.type = 'button';
      go.title = 'Show its slice';
      go.addEventListener('click', () => jump(m.sop_instance_uid));
      const del = el('button', 'rs-mark-delete', '✕');
      del.type = 'button';
      del.title = 'Delete this mark';
      del.setAttribute('aria-label', `Delete mark ${n + 1}`);
      del.disabled = readOnly;
      del.addEventListener('click', () => ctl && ctl.remove(m.id));
      li.append(what, r, go, del);
      list.appendChild(li);
    });
    empty.hidden = marks.length > 0;
    const full = marks.length >= config.max_marks;
    listTitle.textContent = `Marks (${marks.length} of at most ${config.max_marks})`;
    for (const name of ['point', 'ellipse', 'rectangle']) if (toolButtons[name]) toolButtons[name].disabled = readOnly || (full && ctl && ctl.getTool() !== name);
    if (full && ctl && ['point', 'ellipse', 'rectangle'].includes(ctl.getTool())) selectTool(null);
  }

  function renderSeg() {
    if (segDirty) segStatus.textContent = 'Segmentation: saving…';
    else segStatus.textContent = segmentation ? `Segmentation: ${segmentation.voxels} voxels, saved` : 'No segmentation';
    undo.disabled = readOnly || !ctl || !ctl.canUndo();
    redo.disabled = readOnly || !ctl || !ctl.canRedo();
    for (const name of ['brush', 'threshold', 'eraser']) if (toolButtons[name]) toolButtons[name].disabled = readOnly;
  }

  function renderModel() {
    modelBox.replaceChildren();
    modelBox.hidden = modelMarks.length === 0;
    if (!modelMarks.length) return;
    modelBox.appendChild(el('h4', '', 'Model marks (orange, read-only)'));
    const ol = el('ol', 'rs-marks-list');
    for (const m of modelMarks) {
      const li = el('li', 'rs-mark rs-mark-model');
      const go = el('button', '', 'Go');
      go.type = 'button';
      go.addEventListener('click', () => jump(m.sop_instance_uid));
      li.append(el('span', '', `${Math.round(m.probability * 100)}% · slice ${sliceNumber(m.sop_instance_uid)}`), go);
      ol.appendChild(li);
    }
    modelBox.appendChild(ol);
  }

  function renderAll() {
    renderList();
    renderSlices();
    renderSeg();
  }

  // --- segmentation upload -------------------------------------------------------------------
  function scheduleUpload() {
    segDirty = true;
    renderSeg();
    clearTimeout(uploadTimer);
    uploadTimer = setTimeout(() => {
      uploadTimer = null;
      uploading = uploading.then(upload, upload);
    }, UPLOAD_DELAY_MS);
  }

  async function upload() {
    if (!ctl || !segDirty) return;
    segDirty = false;
    const mask = ctl.getMask();
    if (!mask || mask.voxels === 0) {
      segmentation = null;
      renderSeg();
      changed();
      return;
    }
    const response = await fetch(`${base}/segmentations/?question=${encodeURIComponent(question.code)}&shape=${mask.shape.join(',')}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/octet-stream', 'X-CSRFToken': options.csrf || '', Accept: 'application/json' },
      body: await gzip(mask.bytes),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      segStatus.textContent = `Segmentation not saved: ${data.detail || response.statusText}`;
      return;
    }
    segmentation = data;
    renderSeg();
    changed();
  }

  async function restoreMask(value) {
    if (!value || !value.sha256) return;
    const response = await fetch(`${base}/segmentations/${value.sha256}/`, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`segmentation ${response.status}`);
    ctl.setMask(new Uint8Array(await response.arrayBuffer()));
    segDirty = false;
    renderSeg();
  }

  // --- keys ------------------------------------------------------------------------------------
  function onKey(e) {
    if (!ctl || readOnly || isEditable(e.target)) return;
    const key = e.key.toLowerCase();
    if ((e.ctrlKey || e.metaKey) && (key === 'z' || key === 'y')) {
      e.preventDefault();
      if (key === 'y' || e.shiftKey) ctl.redo();
      else ctl.undo();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tool = toolForKey(key, allowed);
    if (tool === undefined) return;
    e.preventDefault();
    selectTool(tool);
  }
  if (options.hotkeys !== false) document.addEventListener('keydown', onKey);

  // --- controller --------------------------------------------------------------------------------
  const offSlice = handle.on('slice', renderSlices);
  const offMarks = handle.on('marks', (detail) => {
    if (!ctl) return;
    if (detail && detail.segmentation && !readOnly) scheduleUpload();
    renderAll();
    changed();
  });
  const ready = handle.marks().then(async (c) => {
    ctl = c;
    ctl.setNewRating(Number(ratingSelect.value));
    applyThreshold();
    await apply(pending);
    if (modelMarks.length) ctl.setModelMarks(modelMarks);
    if (readOnly) ctl.setReadOnly(true);
    renderAll();
    renderModel();
    return c;
  });
  ready.catch((e) => {
    segStatus.textContent = `Marks not available: ${e.message}`;
  });

  async function apply(value) {
    const v = { ...emptyValue(), ...(value || {}) };
    ctl.setMarks(v.marks);
    sliceMarks = v.slice_marks.slice();
    segmentation = v.segmentation;
    if (segmentation) await restoreMask(segmentation).catch((e) => (segStatus.textContent = `Segmentation not restored: ${e.message}`));
  }

  renderAll();
  return {
    element: root,
    ready,
    value() {
      if (!ctl) return answerValue(pending.marks, pending.slice_marks, pending.segmentation);
      return answerValue(ctl.getMarks(), sliceMarks, segmentation);
    },
    async setValue(value) {
      pending = { ...emptyValue(), ...(value || {}) };
      if (ctl) {
        await apply(pending);
        renderAll();
      }
    },
    /** Resolves once a pending segmentation upload is done (before a submission). */
    async flush() {
      if (uploadTimer) {
        clearTimeout(uploadTimer);
        uploadTimer = null;
        uploading = uploading.then(upload, upload);
      }
      await uploading;
    },
    setModelMarks(listOfMarks) {
      modelMarks = (listOfMarks || []).slice();
      if (ctl) ctl.setModelMarks(modelMarks);
      renderModel();
    },
    setReadOnly(on) {
      readOnly = Boolean(on);
      if (ctl) ctl.setReadOnly(readOnly);
      for (const b of Object.values(toolButtons)) b.setAttribute('aria-pressed', 'false');
      root.classList.toggle('rs-marks-locked', readOnly);
      renderAll();
    },
    destroy() {
      clearTimeout(uploadTimer);
      document.removeEventListener('keydown', onKey);
      offSlice();
      offMarks();
      root.remove();
    },
  };
}
