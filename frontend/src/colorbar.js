// Colour bars for the AI overlays (no Cornerstone: also used by the loader).
// Their words come from the descriptor (colormaps.js colorbarText): the label's
// display name and what each end means as the assistance payload gives them,
// the scale (per case or fixed across cases) and the values at the ends.
import { colorbarLabels, colorbarText, paintColorbar } from './colormaps.js';

/** A colour bar element (title, gradient, labels) for an overlay descriptor. */
export function buildColorbar(descriptor) {
  const text = colorbarText(descriptor);
  const box = document.createElement('div');
  box.className = 'rsv-colorbar' + (descriptor.signed ? ' rsv-colorbar-signed' : '');
  const title = document.createElement('div');
  title.className = 'rsv-colorbar-title';
  title.textContent = text.title;
  const canvas = document.createElement('canvas');
  canvas.className = 'rsv-colorbar-gradient';
  canvas.width = 200;
  canvas.height = 10;
  paintColorbar(canvas, descriptor);
  const labels = document.createElement('div');
  labels.className = 'rsv-colorbar-labels';
  for (const l of colorbarLabels(descriptor)) {
    const s = document.createElement('span');
    s.textContent = l.text;
    s.className = l.pos === 0 ? 'rsv-cb-left' : l.pos === 1 ? 'rsv-cb-right' : 'rsv-cb-mid';
    labels.appendChild(s);
  }
  box.append(title, canvas, labels);
  if (text.direction) {
    const dir = document.createElement('div');
    dir.className = 'rsv-colorbar-direction';
    const neg = document.createElement('span');
    neg.className = 'rsv-cb-neg';
    neg.textContent = text.direction.low ? `\u2190 ${text.direction.low}` : '';
    const pos = document.createElement('span');
    pos.className = 'rsv-cb-pos';
    pos.textContent = text.direction.high ? `${text.direction.high} \u2192` : '';
    dir.append(neg, pos);
    box.appendChild(dir);
  }
  if (text.scale) {
    const sc = document.createElement('div');
    sc.className = 'rsv-colorbar-scale';
    sc.textContent = text.scale;
    if (text.note) sc.title = text.note;
    box.appendChild(sc);
  }
  return box;
}
