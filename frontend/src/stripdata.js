// The slice probability strip's data (no DOM): the payload's per-slice values,
// keyed by de-identified SOP Instance UID in the server's geometric order, put
// into the viewer's stack order (src/sort.js), which is what the reader scrolls.

/**
 * Map `strip` ({labels, sop_instance_uids, values: {label: [p per uid]}}) onto
 * the viewer's slices, given their SOP Instance UIDs in stack order.
 * Returns {labels, count, values: {label: Float64Array(count)}, matched}, NaN
 * where a viewer slice has no value. Throws on a malformed strip or when no
 * slice of the viewer is in it (another series).
 */
export function mapStrip(strip, viewerUids) {
  if (!strip || typeof strip !== 'object') throw new TypeError('slice strip must be an object');
  const uids = strip.sop_instance_uids;
  if (!Array.isArray(uids) || uids.length === 0) throw new Error('slice strip has no sop_instance_uids');
  const labels = Array.isArray(strip.labels) ? strip.labels.map(String) : [];
  if (labels.length === 0) throw new Error('slice strip has no labels');
  const position = new Map();
  uids.forEach((u, k) => {
    if (position.has(String(u))) throw new Error(`slice strip lists SOP Instance UID ${u} twice`);
    position.set(String(u), k);
  });
  for (const label of labels) {
    const v = strip.values && strip.values[label];
    if (!Array.isArray(v)) throw new Error(`slice strip has no values for "${label}"`);
    if (v.length !== uids.length) {
      throw new Error(`slice strip "${label}" has ${v.length} values for ${uids.length} slices`);
    }
  }
  const count = viewerUids.length;
  const index = viewerUids.map((u) => (position.has(String(u)) ? position.get(String(u)) : -1));
  const matched = index.filter((k) => k >= 0).length;
  if (matched === 0) throw new Error('no slice of the series on screen is in the slice strip');
  const values = {};
  for (const label of labels) {
    const src = strip.values[label];
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const p = index[i] >= 0 ? Number(src[index[i]]) : NaN;
      out[i] = Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : NaN;
    }
    values[label] = out;
  }
  return { labels, count, values, matched };
}

/** The slice under x (0..width) of a strip `width` wide showing `count` slices. */
export function sliceAt(x, width, count) {
  if (!(count > 0) || !(width > 0)) return 0;
  return Math.min(count - 1, Math.max(0, Math.floor((x / width) * count)));
}

/** Centre x of slice `index` in a strip `width` wide showing `count` slices. */
export function sliceX(index, width, count) {
  return count > 0 ? ((index + 0.5) / count) * width : 0;
}

/** Text of one slice's values: "Slice 3 / 28: Any ICH 0.82, IPH 0.10" (no value: "–"). */
export function describeSlice(mapped, index, displays = {}) {
  const parts = mapped.labels.map((l) => {
    const p = mapped.values[l][index];
    return `${displays[l] || l} ${Number.isFinite(p) ? p.toFixed(2) : '–'}`;
  });
  return `Slice ${index + 1} / ${mapped.count}: ${parts.join(', ')}`;
}

/** The slice where `label` is most probable (first of ties), or -1 without values. */
export function peakSlice(mapped, label) {
  const v = mapped.values[label];
  let best = -1;
  for (let i = 0; i < v.length; i++) if (Number.isFinite(v[i]) && (best < 0 || v[i] > v[best])) best = i;
  return best;
}
