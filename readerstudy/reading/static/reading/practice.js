// The task description and the practice cases, before the study's reads: the reader sees the
// task and the viewer's shortcuts, reads each practice case (unaided, then aided where the
// design shows the model) and after each answer sees the truth, the model output and their own
// answers side by side. Until the qualification rule is met, the study's reads stay closed
// (the server refuses them); then reader.js's loop (``loadNext``) takes over.
(function () {
  'use strict';
  let P = null; // reader.js's parts: api, ui, state, form and viewer helpers, loadNext
  const $ = (id) => document.getElementById(id);
  const base = () => `/api/reading/studies/${P.app.dataset.study}/practice/`;

  function waitForClick(button) {
    return new Promise((resolve) => button.addEventListener('click', resolve, { once: true }));
  }

  function setPracticeMode(on) {
    P.app.classList.toggle('rs-practice', on);
    P.ui.form.hidden = false;
    P.ui.submit.hidden = false;
    $('rs-feedback').hidden = true;
    if (!on) {
      // No practice overlay survives into the study's reads: they start from a fresh viewer.
      if (P.state.viewer && P.state.viewer === mapsOn && maps.size) { P.state.viewer.destroy(); P.state.viewer = null; P.state.seriesUID = null; }
      maps.clear();
      mapsOn = null;
      P.state.practice = null;
      P.ui.submit.textContent = 'Submit and lock';
      P.ui.assistance.hidden = true;
      P.ui.assistance.replaceChildren();
    }
  }

  async function showIntro(st) {
    const intro = $('rs-intro');
    const rule = $('rs-practice-rule');
    if (st && st.cases) {
      rule.textContent = `Before the study you read ${st.cases} practice case${st.cases > 1 ? 's' : ''}, with feedback after each answer; they are not part of the study. ${st.rule.text}`;
      rule.hidden = false;
    }
    P.ui.caseTitle.textContent = 'Before you start';
    P.ui.phase.textContent = '';
    P.ui.form.hidden = true;
    P.ui.submit.hidden = true;
    intro.hidden = false;
    $('rs-help').hidden = true;
    $('rs-begin').focus();
    await waitForClick($('rs-begin'));
    intro.hidden = true;
    $('rs-help').hidden = false;
    $('rs-help').open = false;
    P.ui.form.hidden = false;
    P.ui.submit.hidden = false;
  }

  async function start(parts) {
    P = parts;
    let st = null;
    try {
      st = await P.api('GET', base());
    } catch (err) {
      if (err.status !== 404) throw err; // a study that is not open: reader.js says why
    }
    const pending = st && !['none', 'qualified'].includes(st.status);
    const untouched = st && st.status === 'in_progress' && st.attempt === 1 && st.reads_done === 0;
    if (untouched || (!pending && P.app.dataset.firstVisit === '1')) await showIntro(st);
    if (!pending) return P.loadNext();
    return show(st);
  }

  // Heatmaps as the aided view lays them on the image (same entries, same overlay volumes),
  // fetched only for an aided practice read or the feedback, after the unaided answer.
  // ``maps`` holds the overlay names set on the current viewer.
  const maps = new Set();
  let mapsOn = null; // the viewer they are on
  // Text whose hyphenated words ("CVST-ICH", "high-sensitivity") never break at the hyphen.
  function words(text) {
    const out = document.createDocumentFragment();
    String(text).split(/(\S*-\S*)/).forEach((part, i) => {
      if (!part) return;
      out.appendChild(i % 2 ? P.el('span', 'rs-nowrap', part) : document.createTextNode(part));
    });
    return out;
  }
  const withWords = (el, text) => { el.appendChild(words(text)); return el; };
  const methodName = (m) => ((window.ReaderstudyViewer && window.ReaderstudyViewer.METHOD_LABELS) || {})[m] || m;
  const overlayName = (model, hm) => (hm.label === model.positive_label ? hm.method : `${hm.method}:${hm.label}`);

  async function showMaps(model) {
    const viewer = P.state.viewer;
    const heatmaps = (model && model.heatmaps) || [];
    if (!viewer || !heatmaps.length) return;
    if (mapsOn !== viewer) { maps.clear(); mapsOn = viewer; }
    await viewer.ready.catch(() => {});
    for (const [i, hm] of heatmaps.entries()) {
      const name = overlayName(model, hm);
      if (!maps.has(name)) {
        const overlay = P.withWords(await P.fetchOverlay(hm.url), hm, false);
        if (P.state.viewer !== viewer) return; // the reader moved on
        viewer.setOverlay(name, overlay);
        viewer.setOverlayOpacity(name, hm.opacity);
        maps.add(name);
      }
      viewer.setOverlayVisible(name, i === 0);
    }
  }

  function mapsLine(model) {
    const heatmaps = (model && model.heatmaps) || [];
    if (!heatmaps.length) return null;
    const names = [...new Set(heatmaps.map((hm) => methodName(hm.method)))];
    const p = P.el('p', 'rs-fb-maps');
    p.dataset.testid = 'practice-heatmaps';
    p.appendChild(P.el('span', 'rs-fb-name', 'Heatmaps on the image: '));
    names.forEach((name, i) => p.appendChild(P.el('strong', 'rs-nowrap', i < names.length - 1 ? `${name},` : name)).after(' '));
    p.appendChild(P.el('span', 'rs-hint rs-fb-note', names.length > 1 ? 'Switch between them in the viewer\'s toolbar.' : 'Its switch and colour bar are in the viewer\'s toolbar.'));
    return p;
  }

  function modelBox(model, title) {
    const box = P.el('div', 'rs-fb-card rs-fb-model');
    box.appendChild(P.el('h3', '', title));
    if (!model || !model.available) {
      box.appendChild(P.el('p', 'rs-hint', model ? `No model output: ${model.reason}.` : 'No model output.'));
      return box;
    }
    if (model.probability !== undefined && model.probability !== null) {
      const p = P.el('p');
      const prob = P.el('span', 'prob', `${(model.probability * 100).toFixed(1)}%`);
      prob.dataset.testid = 'practice-probability';
      p.append(prob, ' ', words(model.meaning));
      box.appendChild(p);
    }
    if (model.decision && model.decision.label) {
      box.appendChild(withWords(P.el('p', 'call'), `Model call (${model.decision.operating_point.replace('_', '-')} operating point): ${model.decision.display || model.decision.label}`));
    }
    const line = mapsLine(model);
    if (line) box.appendChild(line);
    box.appendChild(withWords(P.el('p', 'rs-hint'), `Model: ${model.model}`));
    return box;
  }

  async function show(st) {
    P.state.practiceState = st;
    if (st.status === 'none' || st.status === 'qualified') {
      setPracticeMode(false);
      return P.loadNext();
    }
    setPracticeMode(true);
    P.ui.blocked.hidden = true;
    if (st.status === 'blocked') {
      if (P.state.viewer) { P.state.viewer.destroy(); P.state.viewer = null; P.state.seriesUID = null; }
      P.ui.form.replaceChildren();
      P.ui.submit.hidden = true;
      P.ui.caseTitle.textContent = 'Practice not passed';
      P.ui.phase.textContent = 'Your study cases are not open yet.';
      P.ui.blocked.textContent = st.message;
      P.ui.blocked.dataset.testid = 'practice-blocked';
      P.ui.blocked.hidden = false;
      return undefined;
    }
    if (st.status === 'passed') {
      return show(await P.api('POST', `${base()}finish/`));
    }
    if (st.status === 'retry') {
      P.ui.caseTitle.textContent = 'Practice: not yet qualified';
      P.ui.phase.textContent = st.message;
      P.ui.form.replaceChildren();
      P.ui.submit.hidden = true;
      const again = P.el('button', 'primary', 'Try the practice again');
      again.type = 'button';
      again.id = 'rs-practice-again';
      const fb = $('rs-feedback');
      fb.replaceChildren(P.el('p', 'rs-blocked', st.message), again);
      fb.hidden = false;
      await waitForClick(again);
      fb.hidden = true;
      P.ui.submit.hidden = false;
    }
    return openItem(st, st.next);
  }

  function openItem(st, item) {
    const S = P.state;
    S.practice = { item, submit: () => submit(st, item), requestId: null };
    S.questions = st.questions;
    S.activeMs = 0;
    S.activeSince = Date.now();
    P.ui.caseTitle.textContent = `Practice case ${item.number} of ${item.of}`;
    P.ui.phase.textContent = item.aided
      ? 'Practice · aided read: the model output is shown'
      : 'Practice · unaided read: no model output is shown';
    P.ui.phase.classList.toggle('aided', item.aided);
    P.ui.progress.textContent = `Practice attempt ${st.attempt}${st.attempts_allowed ? ` of ${st.attempts_allowed}` : ''}`;
    P.renderForm(st.questions);
    if (item.prefill) { P.fillForm(item.prefill); P.readForm(); }
    if (item.images) P.showViewer(item.images, item.condition);
    P.ui.assistance.replaceChildren();
    P.ui.assistance.hidden = !item.aided;
    if (item.aided) {
      P.ui.assistance.appendChild(modelBox(item.model, 'AI assistance'));
      showMaps(item.model).catch((err) => P.setStatus(`Heatmap not shown: ${err.message}`, true));
    }
    P.ui.submit.textContent = 'Submit practice answer';
    P.ui.submit.disabled = false;
    P.setStatus('');
  }

  async function submit(st, item) {
    const answers = P.readForm();
    const hidden = (q) => P.ui.form.querySelector(`fieldset[data-code="${q.code}"]`).hidden;
    const missing = st.questions.filter((q) => q.required && !(q.code in answers) && !hidden(q));
    if (missing.length) {
      P.setStatus(`Please answer: ${missing.map((q) => q.text).join('; ')}`, true);
      return;
    }
    const practice = P.state.practice;
    if (!practice.requestId) practice.requestId = (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`);
    P.ui.submit.disabled = true;
    P.setStatus('Submitting…');
    try {
      const result = await P.api('POST', `${base()}answers/`, {
        practice_case: item.practice_case, condition: item.condition, answers,
        client_request_id: practice.requestId, active_ms: P.activeMs(),
      });
      P.setStatus('');
      await showFeedback(result.feedback, result.state, item);
    } catch (err) {
      P.setStatus(err.message, true);
      P.ui.submit.disabled = false;
      if (err.code === 'practice_out_of_order' || err.code === 'practice_closed') show(await P.api('GET', base()));
    }
  }

  function verdict(correct) {
    if (correct === null || correct === undefined) return ['rs-fb-na', '–'];
    return correct ? ['rs-fb-ok', '✓ correct'] : ['rs-fb-wrong', '✗ incorrect'];
  }

  async function showFeedback(fb, st, item) {
    P.state.practice = null;
    P.ui.form.hidden = true;
    P.ui.submit.hidden = true;
    P.ui.assistance.hidden = true;
    const box = $('rs-feedback');
    box.replaceChildren();
    box.appendChild(P.el('h2', '', `Feedback · practice case ${item.number} of ${item.of}`));
    if (fb.correct !== null && fb.correct !== undefined) {
      const [cls, text] = verdict(fb.correct);
      const p = P.el('p', `rs-fb-verdict ${cls}`, fb.correct ? 'Your unaided answer is correct.' : 'Your unaided answer is not correct.');
      p.dataset.testid = 'practice-verdict';
      p.title = text;
      box.appendChild(p);
    }
    // One card per endpoint with the truth and the reader's answers side by side, then the
    // model's card; stacked, as the side panel is narrow.
    const grid = P.el('div', 'rs-fb-grid');
    grid.dataset.testid = 'practice-feedback';
    fb.rows.forEach((row) => {
      const card = P.el('div', 'rs-fb-card rs-fb-truth');
      card.appendChild(withWords(P.el('h3'), row.name));
      const table = P.el('table', 'rs-fb-table');
      const line = (what, value, cls, mark) => {
        const tr = table.insertRow();
        tr.appendChild(P.el('th', '', what)).scope = 'row';
        const td = tr.insertCell();
        td.appendChild(withWords(P.el('strong', cls || ''), value));
        if (mark) td.appendChild(P.el('span', `rs-fb-mark ${cls}`, ` ${mark}`));
        return tr;
      };
      line('Truth', row.truth).className = 'rs-fb-truthrow';
      Object.entries(row.answers).forEach(([code, given]) => {
        const [cls, mark] = verdict(given.correct);
        const tr = line(`You, ${code}`, given.value, cls, mark.split(' ')[0]);
        tr.className = 'rs-fb-answer';
        tr.dataset.condition = code;
      });
      card.appendChild(table);
      grid.appendChild(card);
    });
    grid.appendChild(modelBox(fb.model, 'Model output'));
    box.appendChild(grid);
    if (st.status !== 'in_progress') box.appendChild(P.el('p', st.status === 'qualified' ? 'rs-fb-ok' : 'rs-blocked', st.message));
    const next = P.el('button', 'primary', st.status === 'in_progress' ? 'Next practice read' : st.status === 'qualified' ? 'Start the study' : 'Continue');
    next.type = 'button';
    next.id = 'rs-practice-next';
    box.appendChild(next);
    box.hidden = false;
    showMaps(fb.model).catch((err) => P.setStatus(`Heatmap not shown: ${err.message}`, true));
    next.focus();
    await waitForClick(next);
    box.hidden = true;
    await show(st);
  }

  window.ReaderstudyPractice = { start };
})();
