// The reading workspace: next assignment -> viewer + question form -> autosave -> submit and
// lock -> (aided reads only) assistance overlays -> next. Model output is requested only for
// an aided assignment after it has started, which the server allows only once the unaided read
// of that case is locked.
(function () {
  'use strict';
  const app = document.getElementById('rs-app');
  if (!app) return;
  const studyId = app.dataset.study;
  const csrf = app.dataset.csrf;
  const $ = (id) => document.getElementById(id);
  const ui = {
    viewer: $('rs-viewer'), toolbar: $('rs-toolbar'), caseTitle: $('rs-case'), phase: $('rs-phase'),
    form: $('rs-form'), status: $('rs-status'), submit: $('rs-submit'), retry: $('rs-retry'),
    blocked: $('rs-blocked'), assistance: $('rs-assistance'), progress: $('rs-progress'), strip: $('rs-strip'),
  };
  const state = {
    assistanceShown: false,
    assignment: null, viewer: null, seriesUID: null, questions: [], dirty: false,
    activeMs: 0, activeSince: null, lastInput: Date.now(), requestId: null, autosaveTimer: null,
    marksPanels: {}, marksPending: {},
  };
  const IDLE_MS = 60000;
  // How often an aided read asks again for a model output that is not ready (tests shorten it).
  const ASSISTANCE_RETRY_MS = window.readerstudyAssistanceRetryMs || 10000;

  async function api(method, url, body) {
    const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    if (method !== 'GET') opts.headers['X-CSRFToken'] = csrf;
    const response = await fetch(url, opts);
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) {
      // A new consent version: the page reloads onto the consent page, before any read data.
      if (data && data.code === 'consent_required') window.location.reload();
      // The practice's qualification rule is not met (any more): the page reopens the practice.
      if (data && data.code === 'practice_required' && !url.includes('/practice/')) window.location.reload();
      const err = new Error((data && (data.detail || JSON.stringify(data))) || response.statusText);
      err.status = response.status;
      err.code = data && data.code;
      throw err;
    }
    return data;
  }

  function setStatus(text, isError) {
    ui.status.textContent = text || '';
    ui.status.classList.toggle('error', Boolean(isError));
  }

  // --- active time: counts while the page is visible and the reader was active recently ---
  function tickActive() {
    const now = Date.now();
    const active = document.visibilityState === 'visible' && now - state.lastInput < IDLE_MS;
    if (state.activeSince !== null) state.activeMs += now - state.activeSince;
    state.activeSince = active ? now : null;
  }
  ['mousemove', 'mousedown', 'keydown', 'wheel', 'touchstart'].forEach((type) =>
    window.addEventListener(type, () => { state.lastInput = Date.now(); if (state.activeSince === null) tickActive(); }, { passive: true }));
  document.addEventListener('visibilitychange', tickActive);
  setInterval(tickActive, 1000);
  function activeMs() { tickActive(); return Math.round(state.activeMs); }

  // --- question form rendered from the study's question schema ---
  function field(q, input) {
    const fs = document.createElement('fieldset');
    const legend = document.createElement('legend');
    legend.textContent = q.text;
    if (q.required) {
      const star = document.createElement('span');
      star.className = 'req';
      star.textContent = ' *';
      star.setAttribute('aria-hidden', 'true');
      legend.appendChild(star);
    }
    fs.appendChild(legend);
    fs.dataset.code = q.code;
    fs.dataset.type = q.type;
    input.forEach((node) => fs.appendChild(node));
    return fs;
  }

  function choice(type, name, value, label) {
    const wrap = document.createElement('label');
    wrap.className = 'choice';
    const input = document.createElement('input');
    input.type = type;
    input.name = name;
    input.value = value;
    wrap.appendChild(input);
    wrap.appendChild(document.createTextNode(label));
    return wrap;
  }

  function numberInput(q, min, max) {
    const label = document.createElement('label');
    label.textContent = `${min}–${max}`;
    const input = document.createElement('input');
    input.type = 'number';
    input.min = String(min);
    input.max = String(max);
    input.step = '1';
    input.name = q.code;
    input.id = `q-${q.code}`;
    label.htmlFor = input.id;
    if (q.type === 'confidence_100') {
      // Unanswered, the slider shows no thumb and says so: a thumb at 50 would look answered.
      const range = document.createElement('input');
      range.type = 'range';
      range.min = '0';
      range.max = '100';
      range.className = 'unset';
      range.setAttribute('aria-label', q.text);
      range.setAttribute('aria-valuetext', 'not answered');
      const hint = document.createElement('span');
      hint.className = 'rs-unset-hint';
      hint.textContent = 'Not answered yet: click the scale or type a number.';
      const answered = () => { range.classList.remove('unset'); range.removeAttribute('aria-valuetext'); hint.hidden = true; };
      range.addEventListener('input', () => { input.value = range.value; answered(); markDirty(); });
      input.addEventListener('input', () => { range.value = input.value; if (input.value !== '') answered(); });
      return [range, hint, label, input];
    }
    return [label, input];
  }

  function labelRating(q, option) {
    const label = document.createElement('label');
    label.className = 'rs-rating';
    label.textContent = `${option.label || option.value} (0–100)`;
    const input = document.createElement('input');
    input.type = 'number';
    input.min = '0';
    input.max = '100';
    input.step = '1';
    input.dataset.question = q.code;
    input.dataset.label = option.value;
    label.appendChild(input);
    return label;
  }

  function renderForm(questions) {
    ui.form.replaceChildren();
    questions.forEach((q) => {
      let nodes;
      if (q.type === 'binary' || q.type === 'single_choice') {
        nodes = q.options.map((o) => choice('radio', q.code, o.value, o.label));
      } else if (q.type === 'checklist') {
        nodes = q.options.map((o) => choice('checkbox', q.code, o.value, o.label));
      } else if (q.type === 'multi_label') {
        nodes = [choice('checkbox', `${q.code}.present`, 'yes', 'Present'),
          ...q.options.map((o) => choice('checkbox', `${q.code}.subtypes`, o.value, o.label))];
      } else if (q.type === 'confidence_100') {
        nodes = numberInput(q, 0, 100);
      } else if (q.type === 'confidence_per_label') {
        nodes = q.options.map((o) => labelRating(q, o));
      } else if (q.type === 'scale_5') {
        nodes = [1, 2, 3, 4, 5].map((v) => choice('radio', q.code, String(v), String(v)));
      } else if (q.type === 'marks') {
        const host = document.createElement('div'); // the marks panel, once the viewer is up
        host.dataset.marksHost = q.code;
        nodes = [host];
      } else {
        const text = document.createElement('textarea');
        text.name = q.code;
        text.rows = 3;
        text.setAttribute('aria-label', q.text);
        nodes = [text];
      }
      ui.form.appendChild(field(q, nodes));
    });
    readForm(); // hide the questions whose condition does not hold yet
  }

  // One question's answer as the form holds it (undefined: not answered).
  function readAnswer(q) {
    const f = ui.form;
    if (q.type === 'marks') {
      const panel = state.marksPanels[q.code];
      return panel ? panel.value() : state.marksPending[q.code];
    }
    if (q.type === 'binary' || q.type === 'single_choice') {
      const el = f.querySelector(`input[name="${q.code}"]:checked`);
      return el ? el.value : undefined;
    } else if (q.type === 'scale_5') {
      const el = f.querySelector(`input[name="${q.code}"]:checked`);
      return el ? Number(el.value) : undefined;
    } else if (q.type === 'checklist') {
      return [...f.querySelectorAll(`input[name="${q.code}"]:checked`)].map((e) => e.value);
    } else if (q.type === 'multi_label') {
      const present = f.querySelector(`input[name="${q.code}.present"]`).checked;
      return { present, subtypes: [...f.querySelectorAll(`input[name="${q.code}.subtypes"]:checked`)].map((e) => e.value) };
    } else if (q.type === 'confidence_100') {
      const el = f.querySelector(`input[type=number][name="${q.code}"]`);
      return el.value !== '' ? Math.round(Number(el.value)) : undefined;
    } else if (q.type === 'confidence_per_label') {
      const rated = {};
      f.querySelectorAll(`input[type=number][data-question="${q.code}"]`).forEach((el) => {
        if (el.value !== '') rated[el.dataset.label] = Math.round(Number(el.value));
      });
      return Object.keys(rated).length ? rated : undefined;
    }
    const el = f.querySelector(`[name="${q.code}"]`);
    return el.value.trim() ? el.value : undefined;
  }

  // A question with ``show_if`` is asked only while its condition on an earlier answer holds
  // (the server refuses an answer to a hidden question and does not require it).
  function isShown(showIf, answers) {
    if (!showIf || !showIf.question) return true;
    const given = answers[showIf.question];
    if ('present' in showIf) return Boolean(given && typeof given === 'object' && Boolean(given.present) === showIf.present);
    return given !== undefined && given === showIf.equals;
  }

  // The answers of the questions shown, hiding (and not sending) the others.
  function readForm() {
    const answers = {};
    state.questions.forEach((q) => {
      const shown = isShown(q.show_if, answers);
      const fs = ui.form.querySelector(`fieldset[data-code="${q.code}"]`);
      if (fs) fs.hidden = !shown;
      const value = shown ? readAnswer(q) : undefined;
      if (value !== undefined) answers[q.code] = value;
    });
    return answers;
  }

  function fillForm(answers) {
    Object.entries(answers || {}).forEach(([code, value]) => {
      const q = state.questions.find((x) => x.code === code);
      if (!q) return;
      if (q.type === 'marks') {
        state.marksPending[code] = value;
        if (state.marksPanels[code]) state.marksPanels[code].setValue(value);
      } else if (Array.isArray(value)) {
        value.forEach((v) => { const el = ui.form.querySelector(`input[name="${code}"][value="${v}"]`); if (el) el.checked = true; });
      } else if (q.type === 'multi_label') {
        ui.form.querySelector(`input[name="${code}.present"]`).checked = Boolean(value.present);
        (value.subtypes || []).forEach((v) => { const el = ui.form.querySelector(`input[name="${code}.subtypes"][value="${v}"]`); if (el) el.checked = true; });
      } else if (q.type === 'confidence_per_label') {
        Object.entries(value || {}).forEach(([label, rating]) => {
          const el = [...ui.form.querySelectorAll(`input[data-question="${code}"]`)].find((x) => x.dataset.label === label);
          if (el) el.value = String(rating);
        });
      } else if (q.type === 'confidence_100') {
        const fs = ui.form.querySelector(`fieldset[data-code="${code}"]`);
        fs.querySelectorAll('input').forEach((el) => { el.value = String(value); el.classList.remove('unset'); el.removeAttribute('aria-valuetext'); });
        fs.querySelectorAll('.rs-unset-hint').forEach((el) => { el.hidden = true; });
      } else {
        const radio = ui.form.querySelector(`input[name="${code}"][value="${value}"]`);
        if (radio) radio.checked = true;
        else { const el = ui.form.querySelector(`[name="${code}"]`); if (el) el.value = value; }
      }
    });
  }

  function markDirty() { state.dirty = true; state.requestId = null; readForm(); }
  ui.form.addEventListener('input', markDirty);
  ui.form.addEventListener('change', markDirty);

  async function autosave() {
    if (!state.assignment || !state.dirty) return;
    state.dirty = false;
    try {
      await api('PUT', `/api/reading/assignments/${state.assignment.id}/draft/`, { answers: readForm(), active_ms: activeMs() });
      setStatus('Draft saved');
    } catch (err) {
      state.dirty = true;
      if (err.status === 400) setStatus(`Draft not saved: ${err.message}`, true);
      else setStatus('Draft not saved (connection problem); it will be retried.', true);
    }
  }

  // --- viewer and assistance overlays ---
  function showViewer(images, condition) {
    // Keep the loaded series when an aided read follows the unaided read of the same case;
    // any other read starts from a fresh viewer (no overlay survives into an unaided read, nor
    // one condition's overlays into another's).
    const follows = state.viewerCondition === 'unaided' && condition !== 'unaided';
    state.viewerCondition = condition;
    if (state.viewer && state.seriesUID === images.series_instance_uid && follows) return;
    if (state.viewer) state.viewer.destroy();
    ui.toolbar.replaceChildren();
    state.viewer = window.ReaderstudyViewer.mount(ui.viewer, {
      dicomwebRoot: images.dicomweb_root,
      studyUID: images.study_instance_uid,
      seriesUID: images.series_instance_uid,
    });
    state.seriesUID = images.series_instance_uid;
    window.ReaderstudyViewer.buildToolbar(state.viewer, ui.toolbar);
  }

  // --- marks questions: their panel drives the viewer's marking tools ---
  function destroyMarks() {
    Object.values(state.marksPanels).forEach((p) => p.destroy());
    state.marksPanels = {};
    state.marksPending = {};
  }

  function mountMarks(assignment) {
    state.questions.filter((q) => q.type === 'marks').forEach((q) => {
      const host = ui.form.querySelector(`[data-marks-host="${q.code}"]`);
      if (!host || !state.viewer) return;
      const panel = window.ReaderstudyViewer.buildMarksPanel(state.viewer, host, q, {
        apiBase: `/api/reading/assignments/${assignment.id}`, csrf, onChange: markDirty,
      });
      if (state.marksPending[q.code]) panel.setValue(state.marksPending[q.code]);
      state.marksPanels[q.code] = panel;
    });
  }

  // A label code ("sich") as the study's questions name it ("Spontaneous ICH").
  function displayName(code) {
    for (const q of state.questions) {
      const option = (q.options || []).find((o) => o && o.value === code);
      if (option && option.label) return option.label;
    }
    return code;
  }

  async function fetchOverlay(url) {
    const response = await fetch(url, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`overlay ${response.status}`);
    const descriptor = JSON.parse(response.headers.get('X-Overlay'));
    return { descriptor, data: new Uint8Array(await response.arrayBuffer()) };
  }

  // An overlay's name in the viewer: the method for the headline label's maps (as the
  // single-label model always had), "<method>:<label>" for the other labels' maps.
  function overlayName(payload, hm) {
    return hm.label === payload.positive_label ? hm.method : `${hm.method}:${hm.label}`;
  }

  // The heatmap entry's descriptor words (label, colour bar, scale) for the viewer. A model of
  // one label names it only where a signed map needs both directions; one of several labels
  // names its label in the title and at the bar's top.
  function withWords(overlay, hm, multiLabel) {
    const descriptor = { ...overlay.descriptor, label: hm.label, scale: hm.scale };
    if (multiLabel) descriptor.display = hm.display;
    if (multiLabel || hm.signed) descriptor.colorbar = hm.colorbar;
    return { descriptor, data: overlay.data };
  }

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // Per-label probabilities (bars with the value written out) and the calls at the operating point.
  function labelTable(payload) {
    const RV = window.ReaderstudyViewer;
    const rows = RV.probabilityRows(payload);
    const op = payload.label_decisions ? payload.label_decisions.operating_point : null;
    const table = el('table', 'rs-labels');
    table.dataset.testid = 'label-probabilities';
    const cap = el('caption', '', 'Probability per label');
    if (op) cap.appendChild(el('span', 'rs-hint', ` · calls at the ${op.replace('_', '-')} operating point`));
    table.appendChild(cap);
    const head = table.createTHead().insertRow();
    ['Label', 'Probability', '', op ? 'Call' : ''].forEach((t) => head.appendChild(el('th', '', t)));
    const body = table.createTBody();
    const bar = (value, color) => {
      const track = el('span', 'rs-bar');
      track.setAttribute('aria-hidden', 'true');
      const fill = el('span', 'rs-bar-fill');
      fill.style.width = `${(value * 100).toFixed(1)}%`;
      fill.style.background = color;
      track.appendChild(fill);
      return track;
    };
    const callText = (d) => (d === 1 ? 'yes' : d === 0 ? 'no' : '');
    let k = 0;
    rows.forEach((row) => {
      if (row.classes) {
        const hr = body.insertRow();
        hr.className = 'rs-head-row';
        const th = el('th', '', row.display);
        th.colSpan = 4;
        th.scope = 'rowgroup';
        hr.appendChild(th);
        row.classes.forEach((c) => {
          const tr = body.insertRow();
          tr.dataset.label = c.label;
          tr.appendChild(el('th', 'rs-class', c.display)).scope = 'row';
          tr.insertCell().appendChild(bar(c.value, RV.labelColor(k++)));
          const v = tr.insertCell();
          v.textContent = RV.formatPercent(c.value);
          v.className = 'rs-num';
          const call = tr.insertCell();
          call.textContent = c.label === row.top ? 'top' : '';
          if (c.label === row.top) { call.className = 'rs-pos'; call.title = 'the most probable class'; }
        });
        return;
      }
      const tr = body.insertRow();
      tr.dataset.label = row.label;
      tr.appendChild(el('th', '', row.display)).scope = 'row';
      tr.insertCell().appendChild(bar(row.value, RV.labelColor(k++)));
      const v = tr.insertCell();
      v.textContent = RV.formatPercent(row.value);
      v.className = 'rs-num';
      const call = tr.insertCell();
      call.textContent = callText(row.decision);
      if (row.decision === 1) call.className = 'rs-pos';
    });
    return table;
  }

  // Heatmaps per method x label: a label (and method) selector; one map shown at a time, each
  // volume fetched when first chosen.
  function heatmapSelector(payload, multiLabel) {
    const viewer = state.viewer;
    const methods = [...new Set(payload.heatmaps.map((h) => h.method))];
    const labels = [];
    payload.heatmaps.forEach((h) => { if (!labels.some((l) => l.label === h.label)) labels.push(h); });
    const box = el('div', 'rs-mapsel');
    const pick = (id, text, options) => {
      const wrap = el('label', 'rs-pick', text);
      const select = el('select');
      select.id = id;
      options.forEach(([value, label]) => { const o = el('option', '', label); o.value = value; select.appendChild(o); });
      wrap.htmlFor = id;
      box.append(wrap, select);
      return select;
    };
    const METHOD_LABELS = window.ReaderstudyViewer.METHOD_LABELS || {};
    const method = pick('rs-heatmap-method', 'Map', methods.map((m) => [m, METHOD_LABELS[m] || m]));
    if (methods.length < 2) { method.disabled = true; }
    const label = pick('rs-heatmap-label', 'Label', labels.map((h) => [h.label, h.display]));
    const note = el('p', 'rs-hint');
    note.setAttribute('aria-live', 'polite');
    box.appendChild(note);
    let shown = null;
    let token = 0;
    async function show() {
      const hm = payload.heatmaps.find((h) => h.method === method.value && h.label === label.value);
      const mine = ++token;
      if (!hm) {
        if (shown) viewer.setOverlayVisible(shown, false);
        shown = null;
        note.textContent = `No ${METHOD_LABELS[method.value] || method.value} map of this label.`;
        return;
      }
      const name = overlayName(payload, hm);
      if (!overlayData.has(name)) {
        note.textContent = 'Loading the map…';
        const overlay = withWords(await fetchOverlay(hm.url), hm, multiLabel);
        if (mine !== token) return;
        overlayData.set(name, overlay);
        viewer.setOverlay(name, overlay);
        viewer.setOverlayOpacity(name, hm.opacity);
      }
      if (shown && shown !== name) viewer.setOverlayVisible(shown, false);
      viewer.setOverlayVisible(name, true);
      shown = name;
      const scale = hm.scale || {};
      note.textContent = `Showing ${METHOD_LABELS[hm.method] || hm.method} of ${hm.display}` +
        (scale.mode === 'global' ? ' on the fixed scale shared by all cases.' : ' on this case\'s own scale.');
      box.dataset.shown = name;
    }
    method.addEventListener('change', () => show().catch((e) => setStatus(`Map not loaded: ${e.message}`, true)));
    label.addEventListener('change', () => show().catch((e) => setStatus(`Map not loaded: ${e.message}`, true)));
    return { element: box, ready: show(), select: (l) => { label.value = l; return show(); } };
  }

  function sideBySideToggle(payload) {
    const button = el('button', 'rs-sbs', 'Side by side');
    button.type = 'button';
    button.setAttribute('aria-pressed', 'false');
    button.title = payload.side_by_side.truth_mask_url
      ? 'Original, saliency map and ground-truth outline next to each other'
      : 'Original and saliency map next to each other';
    let truth = null;
    button.addEventListener('click', async () => {
      const on = button.getAttribute('aria-pressed') !== 'true';
      button.disabled = true;
      try {
        if (on && payload.side_by_side.truth_mask_url && !truth) truth = await fetchOverlay(payload.side_by_side.truth_mask_url);
        await state.viewer.setSideBySide(on ? { truthMask: truth } : null);
        button.setAttribute('aria-pressed', String(on));
      } catch (e) {
        setStatus(`Side by side not available: ${e.message}`, true);
      } finally {
        button.disabled = false;
      }
    });
    return button;
  }

  // --- seed 001: the nomogram with this case's points, feature importance, clinical data ---
  function panel(title, testid) {
    const section = document.createElement('details');
    section.className = 'rs-interp';
    section.open = true;
    section.dataset.testid = testid;
    const summary = document.createElement('summary');
    summary.textContent = title;
    const body = document.createElement('div');
    section.append(summary, body);
    return { section, body };
  }

  function interpretationPanels(payload) {
    const RV = window.ReaderstudyViewer;
    const out = [];
    const draw = (title, testid, fill) => {
      const { section, body } = panel(title, testid);
      try {
        fill(body);
      } catch (e) {
        body.textContent = `Not shown: ${e.message}`;
      }
      out.push(section);
    };
    if (payload.nomogram) {
      draw('Nomogram', 'nomogram-panel', (body) => {
        RV.buildNomogram(body, payload.nomogram);
        const sig = payload.nomogram.signatures || {};
        const names = Object.keys(sig);
        if (names.length) {
          const p = el('p', 'rs-hint', `Signatures: ${names.map((n) => `${n.toUpperCase()} ${(sig[n] * 100).toFixed(1)}%`).join(' · ')}`);
          p.dataset.testid = 'signatures';
          body.appendChild(p);
        }
      });
    }
    if (payload.feature_importance) {
      draw('Feature importance', 'feature-panel', (body) => {
        RV.buildFeatureChart(body, payload.feature_importance.features);
        body.appendChild(el('p', 'rs-hint', 'Selected features by weight (orange: radiomics, blue: deep features; outlined: negative weight).'));
      });
    }
    if (payload.clinical) {
      draw('Clinical information', 'clinical-panel', (body) => RV.buildClinicalTable(body, payload.clinical));
    }
    return out;
  }

  async function showAssistance(assignmentId) {
    const payload = await api('GET', `/api/reading/assignments/${assignmentId}/assistance/`);
    const box = ui.assistance;
    box.replaceChildren();
    const h = document.createElement('h2');
    h.textContent = 'AI assistance';
    box.appendChild(h);
    const rows = payload.label_probabilities || [];
    // More than the headline label: the per-label panel, the calls per label and per-label maps.
    const multiLabel = rows.length > 1 || rows.some((r) => r.classes);
    if (payload.probability) {
      const p = document.createElement('p');
      p.innerHTML = `<span class="prob" data-testid="probability">${(payload.probability.value * 100).toFixed(1)}%</span> <span></span>`;
      p.lastChild.textContent = payload.probability.meaning;
      box.appendChild(p);
    }
    if (multiLabel) box.appendChild(labelTable(payload));
    if (payload.decision && !multiLabel) {
      const p = document.createElement('p');
      p.className = 'call';
      p.textContent = `Model call (${payload.decision.operating_point.replace('_', '-')} operating point): ${displayName(payload.decision.label)}`;
      box.appendChild(p);
    }
    if (payload.model) {
      const p = document.createElement('p');
      p.textContent = `Model: ${payload.model.name} ${payload.model.version}`;
      box.appendChild(p);
    }
    interpretationPanels(payload).forEach((panel) => box.appendChild(panel));
    box.hidden = false;
    // Overlays go to the viewer; its toolbar offers the per-map switches, opacity and colour bar.
    const viewer = state.viewer;
    await viewer.ready.catch(() => {});
    const heatmaps = payload.heatmaps || [];
    const perLabel = new Set(heatmaps.map((hm) => hm.label)).size > 1;
    if (perLabel) {
      const selector = heatmapSelector(payload, multiLabel);
      box.appendChild(selector.element);
      await selector.ready;
    } else {
      for (const [i, hm] of heatmaps.entries()) {
        const name = overlayName(payload, hm);
        const overlay = withWords(await fetchOverlay(hm.url), hm, multiLabel);
        overlayData.set(name, overlay);
        viewer.setOverlay(name, overlay);
        viewer.setOverlayOpacity(name, hm.opacity);
        viewer.setOverlayVisible(name, i === 0);
      }
    }
    if (payload.mask) viewer.setMaskOutline(await fetchOverlay(payload.mask.url));
    if (payload.model_marks) Object.values(state.marksPanels).forEach((p) => p.setModelMarks(payload.model_marks));
    if (payload.side_by_side && payload.side_by_side.allowed && heatmaps.length) box.appendChild(sideBySideToggle(payload));
    if (payload.slice_strip) showStrip(payload);
    if (!perLabel) showMapLocator(heatmaps.map((hm) => overlayName(payload, hm)));
    state.assistanceShown = true;
    ui.phase.textContent = 'Aided read: the model output is shown';
  }

  // The model's probability per slice and label, under the stack (in the viewer's slice order).
  function showStrip(payload) {
    const RV = window.ReaderstudyViewer;
    if (state.strip) { state.strip.destroy(); state.strip = null; }
    ui.strip.replaceChildren();
    try {
      state.strip = RV.buildSliceStrip(state.viewer, ui.strip, payload.slice_strip, {
        displays: RV.displayNames(payload),
        title: 'Model probability per slice',
      });
      ui.strip.hidden = false;
    } catch (e) {
      setStatus(`Slice strip not shown: ${e.message}`, true);
    }
  }

  // --- where each map's mass lies: IG, SHAP and occlusion are concentrated on a few slices ---
  const overlayData = new Map();

  function sliceMass(descriptor, data) {
    const [frames, rows, cols] = descriptor.shape;
    const zero = descriptor.signed ? 128 : 0;
    const mass = new Float64Array(frames);
    for (let f = 0; f < frames; f++) {
      let sum = 0;
      for (let i = f * rows * cols, end = (f + 1) * rows * cols; i < end; i++) sum += Math.abs(data[i] - zero);
      mass[f] = sum;
    }
    const total = mass.reduce((a, b) => a + b, 0) || 1;
    return Array.from(mass, (m) => m / total);
  }

  function showMapLocator(methods) {
    if (!methods.length) return;
    const box = document.createElement('section');
    box.className = 'rs-maps';
    box.innerHTML = '<h3>Where the maps lie</h3><p class="rs-hint">Share of each map per slice (the current slice is outlined). Most of a map can sit on a few slices.</p>';
    const strips = [];
    methods.forEach((method) => {
      const entry = overlayData.get(method);
      if (!entry) return;
      const shares = sliceMass(entry.descriptor, entry.data);
      const strongest = shares.indexOf(Math.max(...shares));
      const row = document.createElement('div');
      row.className = 'rs-map-row';
      row.dataset.method = method;
      const name = document.createElement('span');
      name.className = 'rs-map-name';
      name.textContent = (window.ReaderstudyViewer.METHOD_LABELS || {})[method] || method;
      const strip = document.createElement('div');
      strip.className = 'rs-strip';
      strip.setAttribute('role', 'img');
      strip.setAttribute('aria-label', `${method}: strongest on slice ${strongest + 1} (${(shares[strongest] * 100).toFixed(0)}% of the map)`);
      const peak = Math.max(...shares) || 1;
      shares.forEach((share, i) => {
        const bar = document.createElement('span');
        bar.style.height = `${Math.max(4, Math.round((share / peak) * 100))}%`;
        bar.title = `slice ${i + 1}: ${(share * 100).toFixed(1)}%`;
        bar.addEventListener('click', () => state.viewer && state.viewer.setSlice(i));
        strip.appendChild(bar);
      });
      const jump = document.createElement('button');
      jump.type = 'button';
      jump.textContent = `Slice ${strongest + 1}`;
      jump.title = `Jump to the slice where the ${method} map is strongest (${(shares[strongest] * 100).toFixed(0)}% of it)`;
      jump.dataset.testid = `jump-${method}`;
      jump.addEventListener('click', () => {
        if (!state.viewer) return;
        state.viewer.setOverlayVisible(method, true);
        state.viewer.setSlice(strongest);
      });
      row.append(name, strip, jump);
      box.appendChild(row);
      strips.push(strip);
    });
    ui.assistance.appendChild(box);
    const mark = (index) => strips.forEach((strip) => [...strip.children].forEach((bar, i) => bar.classList.toggle('current', i === index)));
    mark(state.viewer ? state.viewer.getState().slice : 0);
    if (state.viewer) state.locatorOff = state.viewer.on('slice', (e) => mark(e.index));
  }

  // --- the loop ---
  async function loadNext() {
    clearInterval(state.autosaveTimer);
    destroyMarks();
    ui.submit.disabled = true;
    ui.assistance.hidden = true;
    ui.assistance.replaceChildren();
    if (state.strip) { state.strip.destroy(); state.strip = null; }
    ui.strip.replaceChildren();
    ui.strip.hidden = true;
    overlayData.clear();
    if (state.locatorOff) { state.locatorOff(); state.locatorOff = null; }
    state.assistanceShown = false;
    ui.blocked.hidden = true;
    setStatus('');
    const next = await api('GET', `/api/reading/studies/${studyId}/next/`);
    if (next.done) {
      if (state.viewer) { state.viewer.destroy(); state.viewer = null; state.seriesUID = null; }
      ui.form.replaceChildren();
      app.classList.add('rs-done');
      ui.caseTitle.textContent = 'All reads are done — thank you.';
      ui.phase.textContent = 'Every case of this study has been read and locked. Nothing more is asked of you here.';
      await updateProgress();
      return;
    }
    if (next.blocked_reason) {
      ui.caseTitle.textContent = `Case ${next.assignment.case_code}`;
      ui.blocked.textContent = next.blocked_reason;
      ui.blocked.hidden = false;
      ui.form.replaceChildren();
      return;
    }
    // Starting answers with the whole workspace: detail, own revisions and the answers to prefill.
    const detail = await api('POST', `/api/reading/assignments/${next.assignment.id}/start/`);
    state.assignment = detail;
    state.questions = detail.questions;
    state.activeMs = 0;
    state.activeSince = Date.now();
    state.requestId = null;
    state.dirty = false;
    ui.caseTitle.textContent = `Case ${detail.case_code}`;
    const aided = detail.condition !== 'unaided';
    ui.phase.textContent = aided ? 'Aided read: waiting for the model output' : 'Unaided read: no model output is shown';
    ui.phase.classList.toggle('aided', aided);
    renderForm(detail.questions);
    if (detail.prefill) { fillForm(detail.prefill); readForm(); }
    if (detail.images) showViewer(detail.images, detail.condition);
    mountMarks(detail);
    ui.submit.textContent = 'Submit and lock';
    state.autosaveTimer = setInterval(autosave, 5000);
    updateProgress();
    // The server accepts an aided answer only once the model output was shown: wait for it.
    if (aided && !(await waitForAssistance(detail.id))) return;
    ui.submit.disabled = false;
  }

  async function waitForAssistance(assignmentId) {
    for (;;) {
      try {
        await showAssistance(assignmentId);
        setStatus('');
        return true;
      } catch (err) {
        const seconds = Math.round(ASSISTANCE_RETRY_MS / 1000);
        setStatus(`${err.message} Submitting opens once the output is shown; this page asks again every ${seconds} s and keeps your answer.`, true);
      }
      await new Promise((resolve) => setTimeout(resolve, ASSISTANCE_RETRY_MS));
      if (!state.assignment || state.assignment.id !== assignmentId) return false;
    }
  }

  async function updateProgress() {
    try {
      const studies = await api('GET', '/api/reading/studies/');
      const s = studies.find((x) => String(x.id) === String(studyId));
      if (s) ui.progress.textContent = `${s.locked} / ${s.total} reads locked`;
    } catch { /* progress is cosmetic */ }
  }

  async function submit() {
    if (state.practice) return state.practice.submit();
    if (!state.assignment) return;
    await Promise.all(Object.values(state.marksPanels).map((p) => p.flush().catch(() => {})));
    const answers = readForm();
    const hidden = (q) => ui.form.querySelector(`fieldset[data-code="${q.code}"]`).hidden;
    const missing = state.questions.filter((q) => q.required && !(q.code in answers) && !hidden(q));
    if (missing.length) {
      setStatus(`Please answer: ${missing.map((q) => q.text).join('; ')}`, true);
      const first = ui.form.querySelector(`fieldset[data-code="${missing[0].code}"] input, fieldset[data-code="${missing[0].code}"] textarea`);
      if (first) first.focus();
      return;
    }
    if (!state.requestId) state.requestId = (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`);
    ui.submit.disabled = true;
    ui.retry.hidden = true;
    setStatus('Submitting…');
    try {
      await api('POST', `/api/reading/assignments/${state.assignment.id}/submit/`, {
        answers, client_request_id: state.requestId, active_ms: activeMs(), lock: true,
      });
      setStatus('Locked.');
      $('rs-help').open = false; // read once; it stays one click away
      state.assignment = null;
      await loadNext();
    } catch (err) {
      if (err.status && err.status < 500) {
        setStatus(err.message, true);
        ui.submit.disabled = false;
      } else {
        setStatus('Not saved: connection problem. Your answer is kept — press Retry.', true);
        ui.retry.hidden = false;
      }
    }
  }

  ui.submit.addEventListener('click', submit);
  ui.retry.addEventListener('click', submit);
  ui.form.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); if (!ui.submit.disabled) submit(); }
  });
  window.addEventListener('beforeunload', () => { if (state.dirty) autosave(); });
  // For browser tests and troubleshooting: the workspace state (no model output lives here).
  window.readerstudyWorkspace = state;
  const failed = (err) => setStatus(`Could not load the next case: ${err.message}`, true);
  // practice.js (the task description and practice cases) runs first and hands over to loadNext.
  const parts = { api, app, ui, state, renderForm, fillForm, readForm, showViewer, setStatus, activeMs, el, loadNext, fetchOverlay, withWords };
  if (window.ReaderstudyPractice) window.ReaderstudyPractice.start(parts).catch(failed);
  else loadNext().catch(failed);
})();
