// Pure helpers for the overlay data contract (no DOM, no Cornerstone), so
// they can be unit-tested with `node --test` (frontend/test/).
import { METHOD_LABELS } from './colormaps.js';

export const METHODS = Object.keys(METHOD_LABELS);

function asUint8(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof Uint8ClampedArray) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) {
    throw new TypeError('overlay data must be a Uint8Array (one byte per voxel), got ' + data.constructor.name);
  }
  if (Array.isArray(data)) return Uint8Array.from(data);
  throw new TypeError('overlay data must be a Uint8Array or ArrayBuffer');
}

/**
 * Validate and normalise an overlay given as {descriptor, data} or
 * {method, signed, shape, range, data}. `frames` is the slice count of the
 * stack (null while the series metadata is not known yet).
 */
export function normaliseOverlay(overlay, frames, { mask = false } = {}) {
  if (!overlay || typeof overlay !== 'object') throw new TypeError('overlay must be an object');
  const d = overlay.descriptor || overlay;
  const shape = Array.isArray(d.shape) ? d.shape.map(Number) : null;
  if (!shape || shape.length !== 3 || !shape.every((x) => Number.isInteger(x) && x > 0)) {
    throw new Error('overlay shape must be [frames, rows, cols] (positive integers)');
  }
  const range = d.range === undefined && mask ? [0, 1] : Array.isArray(d.range) ? d.range.map(Number) : null;
  if (!range || range.length !== 2 || !range.every(Number.isFinite) || range[0] === range[1]) {
    throw new Error('overlay range must be [lo, hi] with lo != hi');
  }
  const method = mask ? d.method || 'mask' : String(d.method || '');
  if (!mask && !method) throw new Error('overlay method is required');
  const data = asUint8(overlay.data);
  const [f, r, c] = shape;
  if (data.length !== f * r * c) {
    throw new Error(`overlay data has ${data.length} bytes, shape ${f}x${r}x${c} needs ${f * r * c}`);
  }
  if (frames != null && f !== frames) {
    throw new Error(`overlay has ${f} frames but the series has ${frames} slices`);
  }
  const descriptor = { method, signed: mask ? false : Boolean(d.signed), shape: [f, r, c], range: [range[0], range[1]] };
  // Optional words of the colour bar (from the assistance payload), kept as given.
  if (d.label != null) descriptor.label = String(d.label);
  if (d.display != null) descriptor.display = String(d.display);
  if (d.colorbar && typeof d.colorbar === 'object') {
    descriptor.colorbar = { high: String(d.colorbar.high || ''), low: String(d.colorbar.low || '') };
  }
  if (d.scale && typeof d.scale === 'object') {
    const sr = Array.isArray(d.scale.range) ? d.scale.range.map(Number) : null;
    if (sr && (sr.length !== 2 || !sr.every(Number.isFinite) || sr[0] === sr[1])) {
      throw new Error('overlay scale.range must be [lo, hi] with lo != hi');
    }
    descriptor.scale = { mode: String(d.scale.mode || 'case'), ...(sr ? { range: sr } : {}), ...(d.scale.note ? { note: String(d.scale.note) } : {}) };
  }
  return { descriptor, data };
}

/** Boundary of a binary frame as merged axis-aligned segments in grid units. */
export function maskSegments(data, offset, rows, cols) {
  const inside = (r, c) => r >= 0 && r < rows && c >= 0 && c < cols && data[offset + r * cols + c] > 0;
  const seg = [];
  // Horizontal edges on grid line y = r (between pixel rows r-1 and r).
  for (let r = 0; r <= rows; r++) {
    let start = -1;
    for (let c = 0; c <= cols; c++) {
      const edge = c < cols && inside(r - 1, c) !== inside(r, c);
      if (edge && start < 0) start = c;
      if (!edge && start >= 0) {
        seg.push(start, r, c, r);
        start = -1;
      }
    }
  }
  // Vertical edges on grid line x = c.
  for (let c = 0; c <= cols; c++) {
    let start = -1;
    for (let r = 0; r <= rows; r++) {
      const edge = r < rows && inside(r, c - 1) !== inside(r, c);
      if (edge && start < 0) start = r;
      if (!edge && start >= 0) {
        seg.push(c, start, c, r);
        start = -1;
      }
    }
  }
  return new Float32Array(seg);
}
