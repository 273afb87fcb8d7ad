// ReaderstudyViewer.buildToolbar(handle, container): labelled, focusable
// controls for presets, reset, invert, cine and its speed, a readout of the
// slice position and (once the page has given the viewer any) AI overlay
// controls. Returns {element, destroy()}.
import { METHOD_LABELS } from './colormaps.js';
import { PRESET_ORDER, PRESETS } from './presets.js';

let uid = 0;

function button(label, title, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'rsv-btn';
  b.textContent = label;
  if (title) b.title = title;
  b.addEventListener('click', onClick);
  return b;
}

function group(label, parent) {
  const g = document.createElement('div');
  g.className = 'rsv-group';
  g.setAttribute('role', 'group');
  g.setAttribute('aria-label', label);
  parent.appendChild(g);
  return g;
}

export function buildToolbar(handle, container, options = {}) {
  if (!handle || typeof handle.setPreset !== 'function') throw new TypeError('buildToolbar(handle, container): handle from mount()');
  if (!(container instanceof Element)) throw new TypeError('buildToolbar(handle, container): container must be an element');
  const bar = document.createElement('div');
  bar.className = 'rsv-toolbar';
  bar.setAttribute('role', 'toolbar');
  bar.setAttribute('aria-label', options.label || 'Image viewer tools');
  container.appendChild(bar);
  const offs = [];

  // Window presets.
  const presets = group('Window presets', bar);
  const presetButtons = {};
  PRESET_ORDER.forEach((key, i) => {
    const p = PRESETS[key];
    const b = button(`${p.label}`, `${p.label}: W ${p.width} / L ${p.center} (key ${i + 1})`, () => handle.setPreset(key));
    b.dataset.preset = key;
    b.setAttribute('aria-keyshortcuts', String(i + 1));
    b.setAttribute('aria-pressed', 'false');
    presetButtons[key] = b;
    presets.appendChild(b);
  });
  const syncPreset = (name) => {
    for (const [k, b] of Object.entries(presetButtons)) b.setAttribute('aria-pressed', String(k === name));
  };
  syncPreset(handle.getPreset?.());
  offs.push(handle.on('preset', (d) => syncPreset(d.name)));

  // View controls.
  const view = group('View', bar);
  const reset = button('Reset', 'Reset zoom, pan and window (R)', () => handle.reset());
  reset.setAttribute('aria-keyshortcuts', 'R');
  const invert = button('Invert', 'Invert greyscale (I)', () => handle.setInvert(invert.getAttribute('aria-pressed') !== 'true'));
  invert.setAttribute('aria-pressed', 'false');
  invert.setAttribute('aria-keyshortcuts', 'I');
  const cine = button('Play', 'Cine play/stop (Space)', () => handle.toggleCine());
  cine.setAttribute('aria-pressed', 'false');
  cine.setAttribute('aria-keyshortcuts', 'Space');
  view.append(reset, invert, cine);

  // Cine speed: a number field (arrow keys / Page keys step it), 1-60 fps.
  const speed = document.createElement('span');
  speed.className = 'rsv-speed';
  const fps = document.createElement('input');
  fps.type = 'number';
  fps.min = '1';
  fps.max = '60';
  fps.step = '1';
  fps.id = `rsv-fps-${++uid}`;
  fps.className = 'rsv-fps';
  fps.value = String(handle.getCineFps ? handle.getCineFps() : 10);
  fps.title = 'Cine speed in frames per second (1-60; arrow keys change it)';
  const fpsLabel = document.createElement('label');
  fpsLabel.htmlFor = fps.id;
  fpsLabel.textContent = 'Speed';
  const fpsUnit = document.createElement('span');
  fpsUnit.textContent = 'fps';
  fpsUnit.setAttribute('aria-hidden', 'true');
  fps.setAttribute('aria-label', 'Cine speed, frames per second');
  const applyFps = () => {
    const v = Number(fps.value);
    if (Number.isFinite(v) && v >= 1 && v <= 60) handle.setCineFps(v);
  };
  fps.addEventListener('input', applyFps);
  fps.addEventListener('change', () => {
    applyFps();
    fps.value = String(handle.getCineFps()); // snap an out-of-range entry back
  });
  speed.append(fpsLabel, fps, fpsUnit);
  view.appendChild(speed);

  // Slice position readout: "Slice N / M · z mm" (position along the slice
  // normal, i.e. the table position for axial CT).
  const readout = document.createElement('output');
  readout.className = 'rsv-readout';
  readout.setAttribute('aria-label', 'Slice position');
  const showPosition = (index) => {
    const n = handle.getSliceCount();
    if (index === null || index === undefined || !n) {
      readout.textContent = 'Slice – / –';
      return;
    }
    const info = handle.getSliceInfo(index);
    const mm = info && Number.isFinite(info.position) ? ` · ${info.position.toFixed(1)} mm` : '';
    readout.textContent = `Slice ${index + 1} / ${n}${mm}`;
  };
  showPosition(handle.getSlice());
  bar.appendChild(readout);
  offs.push(handle.on('slice', (d) => showPosition(d.index)));
  offs.push(handle.on('firstImage', () => showPosition(handle.getSlice())));
  offs.push(handle.on('invert', (d) => invert.setAttribute('aria-pressed', String(d.on))));
  offs.push(
    handle.on('cine', (d) => {
      cine.setAttribute('aria-pressed', String(d.playing));
      cine.textContent = d.playing ? 'Stop' : 'Play';
      if (document.activeElement !== fps) fps.value = String(d.fps);
    }),
  );

  // AI overlays: hidden until the page hands the viewer overlays.
  const ai = group('AI overlays', bar);
  ai.classList.add('rsv-group-ai');
  let lastKey = '';
  const renderOverlays = () => {
    const st = handle.getOverlays();
    const names = Object.keys(st.overlays);
    const key = JSON.stringify([names, Boolean(st.mask)]);
    // Rebuild only when the set of overlays changes, so sliders keep focus.
    if (key !== lastKey) {
      lastKey = key;
      ai.textContent = '';
      for (const name of names) ai.appendChild(overlayControl(handle, name, st.overlays[name]));
      if (st.mask) ai.appendChild(maskControl(handle, st.mask));
    }
    for (const name of names) {
      const row = ai.querySelector(`[data-overlay="${CSS.escape(name)}"]`);
      if (!row) continue;
      row.querySelector('input[type=checkbox]').checked = st.overlays[name].visible;
      const r = row.querySelector('input[type=range]');
      if (document.activeElement !== r) r.value = String(Math.round(st.overlays[name].opacity * 100));
      row.querySelector('output').textContent = `${Math.round(st.overlays[name].opacity * 100)}%`;
    }
    const mrow = ai.querySelector('[data-overlay-mask]');
    if (mrow && st.mask) mrow.querySelector('input').checked = st.mask.visible;
    ai.hidden = names.length === 0 && !st.mask;
  };
  renderOverlays();
  offs.push(handle.on('overlay', renderOverlays));

  return {
    element: bar,
    destroy() {
      offs.forEach((off) => off());
      bar.remove();
    },
  };
}

function overlayControl(handle, name, st) {
  const row = document.createElement('div');
  row.className = 'rsv-overlay-row';
  row.dataset.overlay = name;
  const id = `rsv-ov-${++uid}`;
  const method = METHOD_LABELS[st.method] || st.method;
  const label = st.display ? `${method} \u00b7 ${st.display}` : method;
  const cb = document.createElement('input');
  cb.type = 'checkbox';
  cb.id = `${id}-on`;
  cb.checked = st.visible;
  cb.addEventListener('change', () => handle.setOverlayVisible(name, cb.checked));
  const l = document.createElement('label');
  l.htmlFor = cb.id;
  l.textContent = `${label} map`;
  const range = document.createElement('input');
  range.type = 'range';
  range.min = '0';
  range.max = '100';
  range.step = '5';
  range.value = String(Math.round(st.opacity * 100));
  range.id = `${id}-opacity`;
  range.setAttribute('aria-label', `${label} map opacity`);
  range.addEventListener('input', () => handle.setOverlayOpacity(name, Number(range.value) / 100));
  const out = document.createElement('output');
  out.htmlFor = range.id;
  out.textContent = `${range.value}%`;
  row.append(cb, l, range, out);
  return row;
}

function maskControl(handle, st) {
  const row = document.createElement('div');
  row.className = 'rsv-overlay-row';
  row.dataset.overlayMask = '1';
  const cb = document.createElement('input');
  cb.type = 'checkbox';
  cb.id = `rsv-mask-${++uid}`;
  cb.checked = st.visible;
  cb.addEventListener('change', () => handle.setMaskVisible(cb.checked));
  const l = document.createElement('label');
  l.htmlFor = cb.id;
  l.textContent = 'Hematoma outline';
  const swatch = document.createElement('span');
  swatch.className = 'rsv-swatch';
  swatch.style.borderColor = st.color;
  row.append(cb, swatch, l);
  return row;
}
