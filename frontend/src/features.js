// The aided view's feature-importance chart (seed 001's Fig. 3: the fused features' weights)
// and the clinical table a study may show. `featureBars` and `clinicalText` are DOM-free
// (tested with node); `buildFeatureChart` draws SVG bars, `buildClinicalTable` a table.

const SVG = 'http://www.w3.org/2000/svg';

/** Where a feature comes from, by its name: deep (CNN) features, else handcrafted radiomics. */
export function featureSource(name) {
  return /^dl[_-]/i.test(name) ? 'deep' : 'radiomics';
}

/**
 * Bars by decreasing |importance|: [{name, importance, value, source, fraction (|importance|
 * / the largest), sign (1|-1)}]; at most `limit`.
 */
export function featureBars(features, limit = 20) {
  if (!Array.isArray(features)) throw new Error('features must be a list');
  const rows = features.map((f, i) => {
    const importance = Number(f && f.importance);
    if (!f || typeof f.name !== 'string' || !Number.isFinite(importance)) throw new Error(`features[${i}] needs a name and an importance`);
    return { name: f.name, importance, value: f.value, source: featureSource(f.name) };
  });
  rows.sort((a, b) => Math.abs(b.importance) - Math.abs(a.importance));
  const top = rows.slice(0, limit);
  const peak = Math.max(...top.map((r) => Math.abs(r.importance)), 0) || 1;
  return top.map((r) => ({ ...r, fraction: Math.abs(r.importance) / peak, sign: r.importance < 0 ? -1 : 1 }));
}

function node(tag, attrs = {}, text = null) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== null) el.textContent = text;
  return el;
}

/** Draw the bars into `container` (replaced): the name above each bar, its weight beside. */
export function buildFeatureChart(container, features, { width = 300, limit = 20 } = {}) {
  const bars = featureBars(features, limit);
  const rowHeight = 24;
  const barWidth = width - 60;
  const svg = node('svg', {
    viewBox: `0 0 ${width} ${bars.length * rowHeight + 4}`,
    role: 'img',
    class: 'rs-features',
    'data-testid': 'feature-chart',
    'aria-label': `Feature importance: ${bars.map((b) => `${b.name} ${b.importance}`).join(', ')}`,
  });
  bars.forEach((b, i) => {
    const y = i * rowHeight;
    const g = node('g', { class: `rs-feature rs-feature-${b.source}${b.sign < 0 ? ' rs-feature-neg' : ''}`, 'data-feature': b.name });
    // SVG text does not wrap: a PyRadiomics name longer than the chart (about 5.8 units per
    // character at the 10px font) is fitted to the width instead of running out of the panel.
    const fit = b.name.length * 5.8 > width ? { textLength: width, lengthAdjust: 'spacingAndGlyphs' } : {};
    g.appendChild(node('text', { x: 0, y: y + 9, class: 'rs-feature-name', ...fit }, b.name));
    const bar = node('rect', { x: 0, y: y + 12, width: Math.max(1, b.fraction * barWidth), height: 8, rx: 1 });
    bar.appendChild(node('title', {}, `${b.name}: importance ${b.importance}${b.value === null || b.value === undefined ? '' : `, value ${b.value}`}`));
    g.appendChild(bar);
    g.appendChild(node('text', { x: b.fraction * barWidth + 4, y: y + 19, class: 'rs-feature-weight' }, b.importance.toFixed(3)));
    svg.appendChild(g);
  });
  container.replaceChildren(svg);
  return svg;
}

/** A clinical value as text: yes/no, a number with its unit, "not recorded" for none. */
export function clinicalText(row) {
  const v = row ? row.value : null;
  if (v === null || v === undefined || v === '') return 'not recorded';
  if (v === true) return 'yes';
  if (v === false) return 'no';
  if (typeof v === 'number') return `${Number.isInteger(v) ? v : Number(v.toPrecision(4))}${row.unit ? ` ${row.unit}` : ''}`;
  return String(v);
}

/** The clinical table ({label, value, unit} rows) into `container` (replaced). */
export function buildClinicalTable(container, rows) {
  if (!Array.isArray(rows)) throw new Error('clinical must be a list');
  const table = document.createElement('table');
  table.className = 'rs-clinical';
  table.dataset.testid = 'clinical-table';
  const body = document.createElement('tbody');
  for (const row of rows) {
    const tr = document.createElement('tr');
    tr.dataset.variable = row.name;
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = row.label || row.name;
    const td = document.createElement('td');
    td.textContent = clinicalText(row);
    if (row.value === null || row.value === undefined) td.className = 'rs-missing';
    tr.append(th, td);
    body.appendChild(tr);
  }
  table.appendChild(body);
  container.replaceChildren(table);
  return table;
}
