/* Case library upload with live progress.
 *
 * 1. POST /api/cases/imports/ creates a job waiting for files (its id comes back).
 * 2. XHR POST /api/cases/imports/<id>/upload/ sends the files; the bar shows the bytes sent.
 *    The server streams them to disk and answers 202 at once: the job is queued for a worker.
 * 3. Once every byte is sent, GET /api/cases/imports/<id>/ every 500 ms shows the phase and its
 *    file counts while a worker imports, until the job has succeeded (case code) or failed (the
 *    errors).
 * Errors name files by a PHI-safe label; the upload's own answer maps hashed labels to the names
 * this browser sent (``names``, never stored), shown beside each message.
 * A selection larger than the upload limit (data-max-bytes) is refused before anything is sent.
 * Without JavaScript the form posts to the page as before.
 */
(function () {
  'use strict';
  const form = document.getElementById('upload-form');
  if (!form || !window.fetch || !window.FormData) return;
  const live = document.getElementById('upload-live');
  const bar = document.getElementById('upload-progress');
  const barLabel = document.getElementById('upload-progress-label');
  const statusLine = document.getElementById('upload-status');
  const result = document.getElementById('upload-result');
  const button = form.querySelector('button[type=submit]');
  const csrf = form.dataset.csrf;
  const POLL_MS = 500;
  const PHASES = {
    waiting: 'Waiting for the files',
    received: 'Files received',
    validating: 'Validating',
    'de-identifying': 'De-identifying',
    storing: 'Storing',
    done: 'Done',
    failed: 'Failed',
  };

  function mb(bytes) { return (bytes / 1048576).toFixed(1) + ' MB'; }

  function show(label, value, max, text, phase) {
    barLabel.textContent = label;
    bar.max = max > 0 ? max : 1;
    bar.value = max > 0 ? Math.min(value, max) : 0;
    bar.dataset.phase = phase || '';
    live.dataset.phase = phase || '';
    if (text !== statusLine.textContent) statusLine.textContent = text;
  }

  function showJob(job) {
    const ended = job.status === 'failed' || job.status === 'cancelled';
    const phase = job.status === 'succeeded' ? 'done' : (ended ? 'failed' : (job.phase || job.status));
    const name = PHASES[phase] || phase;
    if (job.status === 'queued' && phase === 'received') {
      show(name, 0, 0, `${name}: ${job.total} file${job.total === 1 ? '' : 's'}; waiting for a worker…`, phase);
    } else if (phase === 'done') {
      show(name, 1, 1, 'Import finished.', phase);
    } else if (phase === 'failed') {
      show(name, bar.value, bar.max, 'Import failed; nothing was stored.', phase);
    } else if (job.total > 0) {
      show(name, job.done, job.total, `${name}: ${job.done} of ${job.total} files`, phase);
    } else {
      show(name, 0, 0, `${name}…`, phase);
    }
  }

  function errorItem(e, names) {
    const li = document.createElement('li');
    li.textContent = `[${e.code}] ${e.message || e.detail || ''}`;
    // several files of one name share a label, told apart by a '#n' suffix
    const original = e.file && (names[e.file] || names[e.file.replace(/#\d+$/, '')]);
    if (original) {
      const name = document.createElement('span');
      name.className = 'upload-name';
      name.textContent = ` (your file “${original}”)`;
      li.append(name);
    }
    return li;
  }

  function showOutcome(job, fallbackErrors, names) {
    finished = true;
    clearTimeout(pollTimer);
    lastOutcome = [job, fallbackErrors];
    showJob(job);
    result.replaceChildren();
    names = names || sentNames;
    if (job.status === 'succeeded') {
      const p = document.createElement('p');
      p.id = 'upload-case';
      p.textContent = job.created === false
        ? `Case ${job.cases.join(', ')} was already in the library; nothing new was stored.`
        : `Imported case ${job.cases.join(', ')}.`;
      const reload = document.createElement('a');
      reload.href = window.location.pathname;
      reload.textContent = 'Show it in the list';
      p.append(' ', reload);
      result.append(p);
      if (job.errors && job.errors.length) {
        const list = document.createElement('ul');
        list.id = 'upload-left-out';
        for (const e of job.errors.slice(0, 50)) list.append(errorItem(e, names));
        result.append('Left out:', list);
      }
    } else {
      const errors = (job.errors && job.errors.length ? job.errors : fallbackErrors) || [];
      const list = document.createElement('ul');
      list.id = 'upload-errors';
      list.className = 'error';
      for (const e of errors.slice(0, 50)) list.append(errorItem(e, names));
      if (!errors.length) {
        const li = document.createElement('li');
        li.textContent = 'The import failed.';
        list.append(li);
      }
      result.append(list);
    }
    button.disabled = false;
  }

  let finished = false;
  let pollTimer = null;
  let sentNames = {};  // hashed label -> name sent, from the upload's answer
  let polled = false;  // a poll has shown the job
  let lastOutcome = null;

  async function poll(jobUrl) {
    if (finished) return;
    try {
      const response = await fetch(jobUrl, { credentials: 'same-origin', cache: 'no-store' });
      if (response.ok) {
        const job = await response.json();
        if (finished) return;
        polled = true;
        if (['succeeded', 'failed', 'cancelled'].includes(job.status)) { showOutcome(job); return; }
        showJob(job);
      }
    } catch { /* a missed poll: the next one follows */ }
    if (!finished) pollTimer = setTimeout(() => poll(jobUrl), POLL_MS);
  }

  function fail(message) {
    showOutcome({ status: 'failed', errors: [] }, [{ code: 'upload_failed', message }]);
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const files = form.querySelector('#files').files;
    if (!files.length) return;
    finished = false;
    sentNames = {};
    lastOutcome = null;
    polled = false;
    clearTimeout(pollTimer);
    button.disabled = true;
    live.hidden = false;
    result.replaceChildren();
    const maxBytes = Number(form.dataset.maxBytes || 0);
    const size = Array.from(files).reduce((sum, f) => sum + f.size, 0);
    if (maxBytes && size > maxBytes) {
      showOutcome({ status: 'failed', errors: [] }, [{ code: 'upload_too_large',
        message: `the files come to ${mb(size)}; uploads are limited to ${mb(maxBytes)}` }]);
      return;
    }
    show('Sending files', 0, 0, 'Creating the import…', 'sending');

    let job;
    try {
      const response = await fetch(form.dataset.jobsUrl, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf },
        body: JSON.stringify({ collection: form.querySelector('#collection').value }),
      });
      job = await response.json();
      if (!response.ok) { fail(job.detail || `the server answered ${response.status}`); return; }
    } catch {
      fail('the server could not be reached');
      return;
    }
    const jobUrl = `${form.dataset.jobsUrl}${job.id}/`;
    const body = new FormData();
    for (const f of files) body.append('files', f, f.name);

    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${jobUrl}upload/`);
    xhr.setRequestHeader('X-CSRFToken', csrf);
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (e) => {
      if (!e.lengthComputable) return;
      show('Sending files', e.loaded, e.total, `Sent ${mb(e.loaded)} of ${mb(e.total)}`, 'sending');
    });
    xhr.upload.addEventListener('load', () => {
      show('Files sent', 1, 1, 'Files sent; waiting for the server…', 'sent');
      poll(jobUrl);
    });
    xhr.addEventListener('load', () => {
      const data = xhr.response || {};
      if (xhr.status === 202) {  // queued for a worker: the poll shows the rest
        sentNames = data.names || {};
        // the poll may have shown the outcome first; only this answer knows the names sent
        if (finished && lastOutcome) { showOutcome(lastOutcome[0], lastOutcome[1]); return; }
        if (!finished && !polled) showJob(data);  // a poll may already show a later phase
        return;
      }
      showOutcome({ status: 'failed', errors: data.errors || [] },
        [{ code: data.code || `http_${xhr.status}`, message: data.detail || 'the upload was refused' }]);
    });
    xhr.addEventListener('error', () => { if (!finished) fail('the connection was lost during the upload'); });
    xhr.send(body);
  });
}());
