/* Cancel buttons of job progress (core/_job_progress.html).
 *
 * Each button POSTs to its job's cancel API (data-cancel-url, with the page's CSRF token) and
 * reloads the page, which shows the job cancelled (or stopping, if it is running). A refusal
 * (for example, the job finished meanwhile) is shown beside the button.
 */
(function () {
  'use strict';
  if (window.readerstudyJobCancel || !window.fetch) return;
  window.readerstudyJobCancel = true;

  function wire(button) {
    button.hidden = false;
    const problem = button.nextElementSibling;
    button.addEventListener('click', async () => {
      button.disabled = true;
      if (problem) problem.textContent = '';
      try {
        const response = await fetch(button.dataset.cancelUrl, {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'X-CSRFToken': button.dataset.csrf, Accept: 'application/json' },
        });
        if (response.ok) {
          window.location.reload();
          return;
        }
        const body = await response.json().catch(() => ({}));
        if (problem) problem.textContent = body.detail || `could not cancel (HTTP ${response.status})`;
      } catch {
        if (problem) problem.textContent = 'could not cancel: the server did not answer';
      }
      button.disabled = false;
    });
  }

  function start() { document.querySelectorAll('button.job-cancel[data-cancel-url]').forEach(wire); }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
