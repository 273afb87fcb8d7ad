// First paint without Cornerstone: the loader draws the initial slice into a
// plain 2D canvas as soon as its raw frame has arrived, while the viewer core is
// still loading. Only for uncompressed little-endian grayscale frames (what our
// DICOMweb serves); anything else waits for the core. The canvas uses the same
// fit as Cornerstone's stack viewport after resetCamera (whole image visible,
// centred, physical aspect from PixelSpacing) and the same linear window, so the
// core's first render replaces it without a visible jump.
import { tagValue, tagValues } from './sort.js';

const UNCOMPRESSED_LE = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']);
const T = {
  samplesPerPixel: '00280002',
  photometric: '00280004',
  rows: '00280010',
  columns: '00280011',
  pixelSpacing: '00280030',
  bitsAllocated: '00280100',
  bitsStored: '00280101',
  pixelRepresentation: '00280103',
  intercept: '00281052',
  slope: '00281053',
  transferSyntax: '00020010',
};

function indexOf(bytes, pattern, from = 0) {
  const first = pattern[0];
  const last = bytes.length - pattern.length;
  outer: for (let i = from; i <= last; i++) {
    if (bytes[i] !== first) continue;
    for (let j = 1; j < pattern.length; j++) if (bytes[i + j] !== pattern[j]) continue outer;
    return i;
  }
  return -1;
}

function ascii(s) {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** {pixelData: Uint8Array, transferSyntax} of a single-part WADO-RS frame response, or null. */
export function framePixels(buffer, contentType) {
  const bytes = new Uint8Array(buffer);
  const ct = String(contentType || '');
  if (!/^multipart\//i.test(ct)) {
    const ts = /transfer-syntax=([0-9.]+)/i.exec(ct);
    return { pixelData: bytes, transferSyntax: ts ? ts[1] : '1.2.840.10008.1.2.1' };
  }
  const b = /boundary="?([^";]+)"?/i.exec(ct);
  if (!b) return null;
  const headEnd = indexOf(bytes, ascii('\r\n\r\n'));
  if (headEnd < 0) return null;
  const headers = new TextDecoder().decode(bytes.subarray(0, headEnd));
  const partType = /content-type:\s*([^\r\n]+)/i.exec(headers);
  const ts = partType && /transfer-syntax=([0-9.]+)/i.exec(partType[1]);
  const start = headEnd + 4;
  const end = indexOf(bytes, ascii(`\r\n--${b[1]}`), start);
  return {
    pixelData: bytes.subarray(start, end < 0 ? bytes.length : end),
    // application/octet-stream without a transfer-syntax parameter: explicit VR little endian
    transferSyntax: ts ? ts[1] : '1.2.840.10008.1.2.1',
  };
}

/** Pixel layout of an instance (DICOM JSON) if the preview can draw it, else null. */
export function frameInfo(instance) {
  const num = (tag, dflt) => {
    const v = Number(tagValue(instance, tag));
    return Number.isFinite(v) ? v : dflt;
  };
  const info = {
    rows: num(T.rows, 0),
    columns: num(T.columns, 0),
    bitsAllocated: num(T.bitsAllocated, 16),
    bitsStored: num(T.bitsStored, 16),
    signed: num(T.pixelRepresentation, 0) === 1,
    samples: num(T.samplesPerPixel, 1),
    photometric: String(tagValue(instance, T.photometric) || 'MONOCHROME2'),
    slope: num(T.slope, 1),
    intercept: num(T.intercept, 0),
  };
  const ps = (tagValues(instance, T.pixelSpacing) || []).map(Number);
  info.rowSpacing = ps[0] > 0 ? ps[0] : 1; // between rows (vertical)
  info.colSpacing = ps[1] > 0 ? ps[1] : 1; // between columns (horizontal)
  const ok =
    info.rows > 0 &&
    info.columns > 0 &&
    info.samples === 1 &&
    (info.bitsAllocated === 16 || info.bitsAllocated === 8) &&
    /^MONOCHROME[12]$/.test(info.photometric);
  return ok ? info : null;
}

/**
 * Grey image (RGBA bytes, columns x rows) of a raw frame through a linear window
 * {lower, upper} on modality values (RescaleSlope/Intercept applied), as
 * Cornerstone's voiRange does. Returns null if the frame is not drawable.
 */
export function windowed(info, frame, voi, invert = false) {
  if (!frame || !UNCOMPRESSED_LE.has(frame.transferSyntax)) return null;
  const n = info.rows * info.columns;
  const bytesPer = info.bitsAllocated / 8;
  if (frame.pixelData.byteLength < n * bytesPer) return null;
  let px;
  const src = frame.pixelData;
  const aligned = src.byteOffset % bytesPer === 0 ? src : src.slice();
  if (bytesPer === 2) px = info.signed ? new Int16Array(aligned.buffer, aligned.byteOffset, n) : new Uint16Array(aligned.buffer, aligned.byteOffset, n);
  else px = info.signed ? new Int8Array(aligned.buffer, aligned.byteOffset, n) : aligned.subarray(0, n);
  const shift = info.signed && info.bitsStored < info.bitsAllocated ? 32 - info.bitsStored : 0;
  const lo = voi.lower;
  const width = Math.max(1e-6, voi.upper - voi.lower);
  const flip = invert !== (info.photometric === 'MONOCHROME1');
  // Lookup table over every storable value (65536 entries for 16 bits).
  const size = 1 << info.bitsAllocated;
  const base = info.signed ? size / 2 : 0;
  const lut = new Uint8Array(size);
  for (let k = 0; k < size; k++) {
    let v = k - base;
    if (shift) v = (v << shift) >> shift;
    const g = Math.round(Math.min(1, Math.max(0, (v * info.slope + info.intercept - lo) / width)) * 255);
    lut[k] = flip ? 255 - g : g;
  }
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0, o = 0; i < n; i++, o += 4) {
    const g = lut[px[i] + base];
    out[o] = out[o + 1] = out[o + 2] = g;
    out[o + 3] = 255;
  }
  return new ImageData(out, info.columns, info.rows);
}

/** Where Cornerstone's stack viewport puts the image in a w x h (CSS px) element after resetCamera. */
export function fitRect(info, w, h) {
  const worldW = info.columns * info.colSpacing;
  const worldH = info.rows * info.rowSpacing;
  const scale = Math.min(w / worldW, h / worldH);
  const dw = worldW * scale;
  const dh = worldH * scale;
  return { x: (w - dw) / 2, y: (h - dh) / 2, w: dw, h: dh };
}

/** Draw `image` (ImageData) into `canvas` (sized to its CSS box x devicePixelRatio). */
export function paint(canvas, info, image) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (!w || !h) return false;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const src = document.createElement('canvas');
  src.width = info.columns;
  src.height = info.rows;
  src.getContext('2d').putImageData(image, 0, 0);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  const r = fitRect(info, w, h);
  ctx.drawImage(src, r.x * dpr, r.y * dpr, r.w * dpr, r.h * dpr);
  return true;
}
