// ReaderstudyViewer.buildSliceStrip(handle, container, strip, options): the
// model's per-slice probabilities beside the stack, one small line plot per
// label (x = slice in the viewer's order, y = probability 0..1), the current
// slice marked. Click or drag jumps to a slice; the strip is one focusable
// slider (Left/Right, Home/End); hovering names the slice and its values.
// Labels are written out next to their colour, never colour alone.
import { labelColor } from './labels.js';
import { describeSlice, mapStrip, peakSlice, sliceAt, sliceX } from './stripdata.js';

const SVG = 'http://www.w3.org/2000/svg';
const ROW_H = 22; // px per label row (the plot area)
const W = 1000; // viewBox width: slices are spread over it

function svgEl(tag, attrs, parent) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

function linePath(values, height) {
  let d = '';
  let pen = false;
  for (let i = 0; i < values.length; i++) {
    const p = values[i];
    if (!Number.isFinite(p)) {
      pen = false;
      continue;
    }
    const x = sliceX(i, W, values.length).toFixed(1);
    const y = (height - p * (height - 2) - 1).toFixed(1);
    d += `${pen ? 'L' : 'M'}${x} ${y}`;
    pen = true;
  }
  return d;
}

export function buildSliceStrip(handle, container, strip, options = {}) {
  if (!handle || typeof handle.getSliceInfo !== 'function') throw new TypeError('buildSliceStrip(handle, ...): handle from mount()');
  if (!(container instanceof Element)) throw new TypeError('buildSliceStrip(handle, container): container must be an element');
  const count = handle.getSliceCount();
  if (!count) throw new Error('buildSliceStrip: the viewer has no slices yet (wait for handle.ready)');
  const uids = [];
  for (let i = 0; i < count; i++) uids.push(handle.getSliceInfo(i)?.sopInstanceUID ?? null);
  const mapped = mapStrip(strip, uids);
  const displays = options.displays || {};
  const threshold = options.thresholds || {};

  const box = document.createElement('section');
  box.className = 'rsv-strip';
  box.setAttribute('aria-label', options.title || 'Model probability per slice');
  const head = document.createElement('div');
  head.className = 'rsv-strip-head';
  const title = document.createElement('span');
  title.className = 'rsv-strip-title';
  title.textContent = options.title || 'Probability per slice';
  const readout = document.createElement('output');
  readout.className = 'rsv-strip-readout';
  readout.setAttribute('aria-live', 'polite');
  head.append(title, readout);
  box.appendChild(head);

  const body = document.createElement('div');
  body.className = 'rsv-strip-body';
  const names = document.createElement('div');
  names.className = 'rsv-strip-names';
  const plot = document.createElement('div');
  plot.className = 'rsv-strip-plot';
  plot.tabIndex = 0;
  plot.setAttribute('role', 'slider');
  plot.setAttribute('aria-label', 'Slice probability strip: Left and Right arrows move one slice, Home and End jump to the ends');
  plot.setAttribute('aria-valuemin', '1');
  plot.setAttribute('aria-valuemax', String(count));
  const height = mapped.labels.length * ROW_H;
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${height}`, preserveAspectRatio: 'none', width: '100%', height, 'aria-hidden': 'true' }, plot);
  mapped.labels.forEach((label, r) => {
    const color = labelColor(r);
    const name = document.createElement('div');
    name.className = 'rsv-strip-name';
    name.dataset.label = label;
    const sw = document.createElement('span');
    sw.className = 'rsv-strip-swatch';
    sw.style.background = color;
    const text = document.createElement('span');
    text.textContent = displays[label] || label;
    const value = document.createElement('span');
    value.className = 'rsv-strip-value';
    name.append(sw, text, value);
    names.appendChild(name);
    const g = svgEl('g', { transform: `translate(0 ${r * ROW_H})`, 'data-label': label }, svg);
    svgEl('rect', { x: 0, y: 0, width: W, height: ROW_H - 1, class: 'rsv-strip-bg' }, g);
    const t = Number(threshold[label]);
    if (Number.isFinite(t) && t > 0 && t < 1) {
      const y = (ROW_H - 1 - t * (ROW_H - 3) - 1).toFixed(1);
      svgEl('line', { x1: 0, x2: W, y1: y, y2: y, class: 'rsv-strip-threshold' }, g);
    }
    svgEl('path', { d: linePath(mapped.values[label], ROW_H - 1), stroke: color, class: 'rsv-strip-line', 'vector-effect': 'non-scaling-stroke' }, g);
  });
  const cursor = svgEl('rect', { y: 0, height, width: Math.max(2, W / count), class: 'rsv-strip-current' }, svg);
  const hover = svgEl('rect', { y: 0, height, width: Math.max(2, W / count), class: 'rsv-strip-hover', visibility: 'hidden' }, svg);
  body.append(names, plot);
  box.appendChild(body);
  container.appendChild(box);

  let current = handle.getSlice() ?? 0;
  const show = (index) => {
    current = index;
    const x = (index / count) * W;
    cursor.setAttribute('x', x.toFixed(1));
    const text = describeSlice(mapped, index, displays);
    plot.setAttribute('aria-valuenow', String(index + 1));
    plot.setAttribute('aria-valuetext', text);
    readout.textContent = text;
    mapped.labels.forEach((label, r) => {
      const p = mapped.values[label][index];
      names.children[r].querySelector('.rsv-strip-value').textContent = Number.isFinite(p) ? p.toFixed(2) : '–';
    });
  };
  show(Math.min(count - 1, Math.max(0, current)));
  const jump = (index) => {
    const i = Math.min(count - 1, Math.max(0, index));
    handle.setSlice(i);
    show(i);
    if (typeof options.onJump === 'function') options.onJump(i);
  };
  const at = (e) => {
    const r = plot.getBoundingClientRect();
    return sliceAt(e.clientX - r.left, r.width, count);
  };
  let dragging = false;
  plot.addEventListener('pointerdown', (e) => {
    dragging = true;
    plot.setPointerCapture?.(e.pointerId);
    plot.focus();
    jump(at(e));
  });
  plot.addEventListener('pointermove', (e) => {
    const i = at(e);
    hover.setAttribute('x', ((i / count) * W).toFixed(1));
    hover.setAttribute('visibility', 'visible');
    plot.title = describeSlice(mapped, i, displays);
    if (dragging && i !== current) jump(i);
  });
  const stop = () => (dragging = false);
  plot.addEventListener('pointerup', stop);
  plot.addEventListener('pointercancel', stop);
  plot.addEventListener('pointerleave', () => hover.setAttribute('visibility', 'hidden'));
  plot.addEventListener('keydown', (e) => {
    const keys = { ArrowLeft: current - 1, ArrowRight: current + 1, Home: 0, End: count - 1 };
    if (!(e.key in keys) || e.ctrlKey || e.metaKey || e.altKey) return;
    e.preventDefault();
    jump(keys[e.key]);
  });
  const off = handle.on('slice', (d) => show(d.index));
  return {
    element: box,
    mapped,
    /** The slice where `label` is most probable. */
    peak: (label) => peakSlice(mapped, label),
    destroy() {
      off();
      box.remove();
    },
  };
}
