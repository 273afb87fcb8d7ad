// Per-label model outputs of the assistance payload as rows to show (no DOM):
// binary and multi-label labels with their probability and operating-point call,
// a multi-class head as its class distribution, and one colour per label.

// Okabe-Ito colours (colour-blind safe), in an order that reads on a dark background.
export const PALETTE = ['#E69F00', '#56B4E9', '#009E73', '#F0E442', '#D55E00', '#CC79A7', '#0072B2', '#FFFFFF'];

/** The colour of the i-th label (repeats after the palette). */
export function labelColor(i) {
  const n = PALETTE.length;
  return PALETTE[((i % n) + n) % n];
}

/** A probability as a percentage with one decimal ("81.2%"). */
export function formatPercent(p) {
  return `${(Number(p) * 100).toFixed(1)}%`;
}

function checkProbability(value, where) {
  const v = Number(value);
  if (!Number.isFinite(v) || v < 0 || v > 1) throw new Error(`${where}: probability ${value} is not in [0, 1]`);
  return v;
}

/**
 * Rows of the per-label panel from the payload's `label_probabilities` and
 * `label_decisions`: [{label, display, value, decision}] for binary /
 * multi-label labels (decision 0|1, or null without a call) and
 * [{label (the head), display, classes: [{label, display, value, decision}], top}]
 * for a multi-class head (`top`: the most probable class).
 */
export function probabilityRows(payload) {
  const entries = (payload && payload.label_probabilities) || [];
  if (!Array.isArray(entries)) throw new Error('label_probabilities must be a list');
  const calls = (payload && payload.label_decisions && payload.label_decisions.values) || {};
  const call = (name) => (calls[name] === 0 || calls[name] === 1 ? calls[name] : null);
  return entries.map((e, i) => {
    if (!e || typeof e.label !== 'string') throw new Error(`label_probabilities[${i}] has no label`);
    const display = e.display || e.label;
    if (Array.isArray(e.classes)) {
      const classes = e.classes.map((c, k) => ({
        label: c.label,
        display: c.display || c.label,
        value: checkProbability(c.value, `${e.label}.classes[${k}]`),
        decision: call(c.label),
      }));
      const top = classes.reduce((a, b) => (b.value > a.value ? b : a), classes[0] || null);
      return { label: e.label, display, classes, top: top ? top.label : null };
    }
    return { label: e.label, display, value: checkProbability(e.value, e.label), decision: call(e.label) };
  });
}

/** Display names by label name from the payload's `labels` ({name, display}). */
export function displayNames(payload) {
  const out = {};
  for (const l of (payload && payload.labels) || []) out[l.name] = l.display || l.name;
  return out;
}
