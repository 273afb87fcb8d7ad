// Colour bars for the AI overlays (no Cornerstone: also used by the loader).
import { colorbarLabels, METHOD_LABELS, paintColorbar, SIGNED_LABELS } from './colormaps.js';

/** A colour bar element (title, gradient, labels) for an overlay descriptor. */
export function buildColorbar(descriptor) {
  const box = document.createElement('div');
  box.className = 'rsv-colorbar' + (descriptor.signed ? ' rsv-colorbar-signed' : '');
  const title = document.createElement('div');
  title.className = 'rsv-colorbar-title';
  title.textContent = (METHOD_LABELS[descriptor.method] || descriptor.method) + (descriptor.signed ? ' (signed)' : '');
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
  if (descriptor.signed) {
    const dir = document.createElement('div');
    dir.className = 'rsv-colorbar-direction';
    const neg = document.createElement('span');
    neg.className = 'rsv-cb-neg';
    neg.textContent = `\u2190 ${SIGNED_LABELS.negative}`;
    const pos = document.createElement('span');
    pos.className = 'rsv-cb-pos';
    pos.textContent = `${SIGNED_LABELS.positive} \u2192`;
    dir.append(neg, pos);
    box.appendChild(dir);
  }
  return box;
}
