// Colour lookup tables for AI overlays.
//
// A LUT is a Uint8ClampedArray of 256 RGBA entries indexed by the stored byte
// v (0..255) of an overlay voxel, whose value is lo + (hi - lo) * v / 255.
// Transparency near "no attribution" is part of the LUT; the user's opacity
// slider is applied on top (canvas globalAlpha).

// matplotlib "inferno" (CC0) sampled at 17 evenly spaced points.
const INFERNO = [
  [0, 0, 4], [11, 7, 36], [33, 12, 74], [61, 9, 101], [87, 16, 110], [113, 25, 110],
  [138, 34, 106], [163, 44, 97], [188, 55, 84], [210, 70, 68], [228, 90, 49], [241, 115, 29],
  [249, 142, 9], [252, 172, 17], [249, 203, 53], [242, 234, 105], [252, 255, 164],
];

// Diverging anchors (ColorBrewer RdBu end/mid colours) for signed maps.
const NEG = [[247, 247, 247], [146, 197, 222], [67, 147, 195], [33, 102, 172]]; // towards sICH
const POS = [[247, 247, 247], [244, 165, 130], [214, 96, 77], [178, 24, 43]]; // towards CVST-ICH

export const SIGNED_LABELS = { negative: 'towards sICH', positive: 'towards CVST-ICH' };

export const METHOD_LABELS = {
  gradcampp: 'Grad-CAM++',
  ig: 'Integrated Gradients',
  shap: 'SHAP',
  occlusion: 'Occlusion',
  cbam: 'CBAM attention',
  gradcam: 'Grad-CAM',
  attention: 'Attention rollout',
};

function lerpAnchors(anchors, t) {
  const x = Math.min(1, Math.max(0, t)) * (anchors.length - 1);
  const i = Math.min(anchors.length - 2, Math.floor(x));
  const f = x - i;
  const a = anchors[i];
  const b = anchors[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

function smoothstep(e0, e1, x) {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}

/** Colour for an unsigned normalised value t in [0,1]: [r,g,b,a] (a in 0..1). */
export function unsignedColor(t) {
  const [r, g, b] = lerpAnchors(INFERNO, t);
  return [r, g, b, smoothstep(0.08, 0.4, t)];
}

/** Colour for a signed normalised value s in [-1,1]: [r,g,b,a]. */
export function signedColor(s) {
  const m = Math.min(1, Math.abs(s));
  const [r, g, b] = lerpAnchors(s >= 0 ? POS : NEG, m);
  return [r, g, b, smoothstep(0.06, 0.45, m)];
}

/**
 * Normalisation for a descriptor: maps the stored byte v to t (unsigned,
 * 0..1 across [lo,hi]) or s (signed, value / max(|lo|,|hi|), so that zero
 * stays zero and both sides share one scale).
 */
export function normaliser(desc) {
  const [lo, hi] = desc.range;
  if (desc.signed) {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    return (v) => (lo + ((hi - lo) * v) / 255) / m;
  }
  return (v) => v / 255;
}

/** 256-entry RGBA LUT (Uint8ClampedArray, length 1024) for a descriptor. */
export function buildLut(desc) {
  const norm = normaliser(desc);
  const colour = desc.signed ? signedColor : unsignedColor;
  const lut = new Uint8ClampedArray(256 * 4);
  for (let v = 0; v < 256; v++) {
    const [r, g, b, a] = colour(norm(v));
    lut[v * 4] = r;
    lut[v * 4 + 1] = g;
    lut[v * 4 + 2] = b;
    lut[v * 4 + 3] = Math.round(a * 255);
  }
  return lut;
}

/**
 * Paint a horizontal colour bar into a canvas: signed bars run from
 * -max to +max (blue .. red), unsigned bars from lo to hi. Colours are shown
 * at their LUT alpha over black, roughly as they appear over dark CT.
 */
export function paintColorbar(canvas, desc) {
  const w = canvas.width;
  const h = canvas.height;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(w, h);
  for (let x = 0; x < w; x++) {
    const f = w > 1 ? x / (w - 1) : 0;
    const [r, g, b, a] = desc.signed ? signedColor(f * 2 - 1) : unsignedColor(f);
    // Keep a floor so the hue stays readable even where the map is transparent.
    const k = Math.max(a, 0.25);
    for (let y = 0; y < h; y++) {
      const o = (y * w + x) * 4;
      img.data[o] = r * k;
      img.data[o + 1] = g * k;
      img.data[o + 2] = b * k;
      img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

/** The values at the bar's ends: the payload's scale (`scale.range`) when given, else the data range. */
function barRange(desc) {
  const r = desc.scale && Array.isArray(desc.scale.range) ? desc.scale.range.map(Number) : null;
  return r && r.length === 2 && r.every(Number.isFinite) && r[0] !== r[1] ? r : desc.range;
}

/** Tick labels for the colour bar: [{pos: 0..1, text}] (numbers at the ends, 0 for signed). */
export function colorbarLabels(desc) {
  const [lo, hi] = barRange(desc);
  const fmt = (x) => (Math.abs(x) >= 100 || x === 0 ? String(Math.round(x)) : Number(x.toPrecision(2)).toString());
  if (desc.signed) {
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    return [
      { pos: 0, text: fmt(-m) },
      { pos: 0.5, text: '0' },
      { pos: 1, text: fmt(m) },
    ];
  }
  return [
    { pos: 0, text: fmt(lo) },
    { pos: 1, text: fmt(hi) },
  ];
}

export const SCALE_LABELS = { case: 'per-case scale', global: 'fixed scale (all cases)' };

/**
 * The words of a colour bar: `title` (method, and the label when the descriptor
 * names one), `direction` ({low, high} or null: what each end means; signed maps
 * default to SIGNED_LABELS, the seed-000 model's, when the descriptor gives no
 * `colorbar`), and `scale` (per-case or fixed, when the descriptor gives one).
 */
export function colorbarText(desc) {
  const method = METHOD_LABELS[desc.method] || desc.method;
  const title = `${method}${desc.display ? ` \u00b7 ${desc.display}` : ''}${desc.signed ? ' (signed)' : ''}`;
  const cb = desc.colorbar && typeof desc.colorbar === 'object' ? desc.colorbar : null;
  let direction = null;
  if (cb && (cb.high || cb.low)) direction = { low: String(cb.low || ''), high: String(cb.high || '') };
  else if (desc.signed) direction = { low: SIGNED_LABELS.negative, high: SIGNED_LABELS.positive };
  const mode = desc.scale && desc.scale.mode;
  return { title, direction, scale: mode ? SCALE_LABELS[mode] || String(mode) : null, note: (desc.scale && desc.scale.note) || null };
}
