// Question and endpoint editors: an "Add a row" button for the value/label rows. Without
// JavaScript the form always offers a few blank rows, and saving adds more.
(function () {
  'use strict';
  for (const button of document.querySelectorAll('button.add-row[data-prefix]')) {
    const prefix = button.dataset.prefix;
    const total = document.getElementById(`id_${prefix}-TOTAL_FORMS`);
    const body = button.closest('fieldset').querySelector('tbody');
    if (!total || !body || !body.lastElementChild) continue;
    button.hidden = false;
    button.addEventListener('click', () => {
      const index = Number(total.value);
      const row = body.lastElementChild.cloneNode(true);
      row.querySelectorAll('.error').forEach((node) => node.remove());
      for (const input of row.querySelectorAll('input')) {
        input.name = input.name.replace(/-\d+-/, `-${index}-`);
        input.id = input.id.replace(/-\d+-/, `-${index}-`);
        input.value = '';
      }
      body.appendChild(row);
      total.value = String(index + 1);
      row.querySelector('input').focus();
    });
  }
})();

// The marks settings apply to a marks question only: hidden while another type is chosen.
(function () {
  'use strict';
  const box = document.getElementById('marks-settings');
  const type = box && document.getElementById(box.dataset.typeField);
  if (!type) return;
  const sync = () => { box.hidden = type.value !== 'marks'; };
  type.addEventListener('change', sync);
  sync();
})();
