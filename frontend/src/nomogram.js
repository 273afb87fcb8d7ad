// The aided view's nomogram (seed 001's DLRN): a points axis, one axis per variable with its
// value ticks at their points, a total-points axis and the probability axis under it, with
// this case's points marked on every axis. `nomogramLayout` is DOM-free (tested with node);
// `buildNomogram` draws it as SVG.

const SVG = 'http://www.w3.org/2000/svg';
const TICK_CHAR = 5.2; // width of one tick-label character (font-size 9), for thinning labels

function finite(value, where) {
  const v = Number(value);
  if (value === null || value === undefined || !Number.isFinite(v)) throw new Error(`${where}: ${value} is not a number`);
  return v;
}

/** A tick value as text: yes/no for booleans (and a 0/1 axis of a yes/no variable), numbers short. */
export function tickText(value, yesNo = false) {
  if (value === true || (yesNo && value === 1)) return 'yes';
  if (value === false || (yesNo && value === 0)) return 'no';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
  return value === null || value === undefined ? '' : String(value);
}

/** Points with at most one decimal ("82", "30.6"). */
export function pointsText(points) {
  return String(Number(Number(points).toFixed(1)));
}

function roundTicks(max) {
  const step = max <= 60 ? 10 : max <= 150 ? 20 : max <= 300 ? 50 : 100;
  const ticks = [];
  for (let t = 0; t <= max + 1e-9; t += step) ticks.push(t);
  return ticks;
}

/**
 * Positions of everything the nomogram draws, in SVG units: `rows` in drawing order, each
 * {kind: 'points'|'variable'|'total'|'probability', label, y, ticks: [{x, text}], mark: {x,
 * text}|null}. Variable and points rows share the 0-100 scale; the total and probability rows
 * share the 0-`maxTotal` scale. `width`: the drawing's width; `labelWidth`: the left column.
 */
export function nomogramLayout(nomogram, { width = 300, labelWidth = 0, rowHeight = 46, pad = 12 } = {}) {
  if (!nomogram || !Array.isArray(nomogram.variables) || !nomogram.variables.length) {
    throw new Error('the nomogram has no variables');
  }
  const x0 = labelWidth + pad;
  const x1 = width - pad;
  const axes = new Map((nomogram.axes || []).map((a) => [a.variable, a]));
  const variables = nomogram.variables.map((v, i) => {
    const axis = axes.get(v.name);
    const ticks = axis ? axis.ticks.map((t, k) => ({ value: t.value, points: finite(t.points, `${v.name} tick ${k}`) })) : [];
    return { ...v, points: finite(v.points, `${v.name || i} points`), ticks };
  });
  const maxPoints = Math.max(100, ...variables.flatMap((v) => v.ticks.map((t) => t.points)), ...variables.map((v) => v.points));
  const total = finite(nomogram.total_points, 'total_points');
  const probabilityAxis = (nomogram.probability_axis || []).map((t, k) => ({
    total: finite(t.total_points, `probability tick ${k}`),
    probability: finite(t.probability, `probability tick ${k}`),
  }));
  const sumOfMax = variables.reduce((s, v) => s + Math.max(v.points, ...v.ticks.map((t) => t.points), 0), 0);
  const totalTicksGiven = (nomogram.total_points_axis || []).map((t, k) => finite(t, `total tick ${k}`));
  const maxTotal = Math.max(sumOfMax, total, ...totalTicksGiven, ...probabilityAxis.map((t) => t.total), 1);
  const px = (p) => x0 + ((x1 - x0) * p) / maxPoints;
  const tx = (t) => x0 + ((x1 - x0) * t) / maxTotal;
  const rows = [];
  let y = pad + 22;
  const pointsTicks = roundTicks(maxPoints).map((p) => ({ x: px(p), text: tickText(p) }));
  rows.push({ kind: 'points', label: 'Points', y, ticks: pointsTicks, mark: null });
  for (const v of variables) {
    y += rowHeight;
    const yesNo = v.value === true || v.value === false;
    rows.push({
      kind: 'variable',
      name: v.name,
      label: v.display || v.name,
      y,
      ticks: v.ticks.map((t) => ({ x: px(t.points), text: tickText(t.value, yesNo) })),
      mark: { x: px(v.points), text: `${pointsText(v.points)} pts`, value: v.value },
    });
  }
  y += rowHeight + 4;
  const totalTicks = (totalTicksGiven.length ? totalTicksGiven : roundTicks(maxTotal)).map((t) => ({ x: tx(t), text: tickText(t) }));
  rows.push({ kind: 'total', label: 'Total points', y, ticks: totalTicks, mark: { x: tx(total), text: pointsText(total) } });
  if (probabilityAxis.length) {
    y += rowHeight;
    const p = nomogram.probability;
    rows.push({
      kind: 'probability',
      label: 'Probability',
      y,
      ticks: probabilityAxis.map((t) => ({ x: tx(t.total), text: tickText(t.probability) })),
      mark: p === null || p === undefined ? null : { x: tx(total), text: `${(finite(p, 'probability') * 100).toFixed(1)}%` },
    });
  }
  return { width, height: y + 18, x0, x1, rows, maxPoints, maxTotal };
}

function node(tag, attrs = {}, text = null) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== null) el.textContent = text;
  return el;
}

/** Draw the nomogram into `container` (replaced); returns the SVG element. */
export function buildNomogram(container, nomogram, options = {}) {
  const layout = nomogramLayout(nomogram, options);
  const svg = node('svg', {
    viewBox: `0 0 ${layout.width} ${layout.height}`,
    role: 'img',
    class: 'rs-nomogram',
    'data-testid': 'nomogram',
    'aria-label': `Nomogram: ${nomogram.variables.map((v) => `${v.display || v.name} ${Number(v.points).toFixed(1)} points`).join(', ')}; total ${Number(nomogram.total_points).toFixed(1)} points`,
  });
  const total = layout.rows.find((r) => r.kind === 'total');
  const probability = layout.rows.find((r) => r.kind === 'probability');
  for (const row of layout.rows) {
    const g = node('g', { class: `rs-nomo-row rs-nomo-${row.kind}`, 'data-row': row.name || row.kind });
    g.appendChild(node('text', { x: layout.x0 - 8, y: row.y - 20, class: 'rs-nomo-label' }, row.label));
    const xs = row.ticks.map((t) => t.x);
    if (xs.length) g.appendChild(node('line', { x1: Math.min(...xs), x2: Math.max(...xs), y1: row.y, y2: row.y, class: 'rs-nomo-axis' }));
    let lastEnd = -Infinity;
    for (const t of row.ticks) {
      g.appendChild(node('line', { x1: t.x, x2: t.x, y1: row.y - 3, y2: row.y + 3, class: 'rs-nomo-tick' }));
      const half = (t.text.length * TICK_CHAR) / 2;
      if (t.x - half >= lastEnd + 2) {
        g.appendChild(node('text', { x: t.x, y: row.y + 13, class: 'rs-nomo-ticktext', 'text-anchor': 'middle' }, t.text));
        lastEnd = t.x + half;
      }
    }
    if (row.mark) {
      const mark = node('circle', { cx: row.mark.x, cy: row.y, r: 4, class: 'rs-nomo-mark', 'data-testid': `nomogram-mark-${row.name || row.kind}` });
      mark.appendChild(node('title', {}, row.mark.text));
      g.appendChild(mark);
      const right = row.mark.x < (layout.x0 + layout.x1) / 2;
      g.appendChild(node('text', { x: row.mark.x + (right ? 6 : -6), y: row.y - 5, class: 'rs-nomo-marktext', 'text-anchor': right ? 'start' : 'end' }, row.mark.text));
    }
    svg.appendChild(g);
  }
  if (total && probability && probability.mark) {
    svg.appendChild(node('line', { x1: total.mark.x, x2: total.mark.x, y1: total.y, y2: probability.y, class: 'rs-nomo-drop' }));
  }
  container.replaceChildren(svg);
  return svg;
}
