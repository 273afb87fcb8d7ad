// AI overlays (heatmaps) and the hematoma mask outline, drawn on a 2D canvas
// layered above the Cornerstone canvas.
//
// The layer never touches Cornerstone's pixels: it is redrawn after every
// Cornerstone render (IMAGE_RENDERED) with the overlay grid mapped to canvas
// coordinates through the viewport's worldToCanvas, so it follows slice
// changes, zoom, pan, flips and rotation. Turning an overlay off clears the
// layer, so the composited image is exactly the original one.
import { metaData } from '@cornerstonejs/core';
import { buildColorbar } from './colorbar.js';
import { buildLut } from './colormaps.js';
import { maskSegments, normaliseOverlay } from './overlaydata.js';

export { METHODS, maskSegments, normaliseOverlay } from './overlaydata.js';
export { buildColorbar } from './colorbar.js';

export class OverlayLayer {
  /**
   * `options.source`: another layer whose heatmaps and mask this one draws too
   * (a side-by-side panel mirroring the main viewport's maps); `options.color`:
   * the mask outline's default colour.
   */
  constructor(host, colorbarHost, options = {}) {
    this.host = host;
    this.colorbarHost = colorbarHost;
    this.source = options.source || null;
    this.maskColor = options.color || '#ffe100';
    this.suppressed = false; // draws nothing (the side-by-side "original" panel)
    this.mirrors = new Set();
    if (this.source) this.source.mirrors.add(this);
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'rsv-overlay-canvas';
    this.canvas.setAttribute('aria-hidden', 'true');
    host.appendChild(this.canvas);
    this.viewport = null;
    this.imageIds = [];
    this.indexOf = new Map();
    this.overlays = new Map(); // name -> state
    this.mask = null;
    this.frames = null;
  }

  attach(viewport, imageIds) {
    this.viewport = viewport;
    this.imageIds = imageIds;
    this.indexOf = new Map(imageIds.map((id, i) => [id, i]));
    this.frames = imageIds.length;
  }

  // ---- state ---------------------------------------------------------------
  set(name, overlay) {
    const key = String(name);
    if (overlay == null) {
      const had = this.overlays.delete(key);
      this._changed();
      return had;
    }
    const { descriptor, data } = normaliseOverlay(overlay, this.frames);
    const prev = this.overlays.get(key);
    const opacity = overlay.opacity ?? prev?.opacity ?? 0.6;
    const visible = overlay.visible ?? prev?.visible ?? true;
    this.overlays.set(key, {
      name: key,
      descriptor,
      data,
      lut32: new Uint32Array(buildLut(descriptor).buffer),
      opacity: clamp01(opacity),
      visible: Boolean(visible),
      frameCanvas: null,
      frameIndex: -1,
    });
    this._changed();
    return true;
  }

  setOpacity(name, opacity) {
    const o = this._get(name);
    o.opacity = clamp01(Number(opacity));
    this._changed();
  }

  setVisible(name, visible) {
    const o = this._get(name);
    o.visible = Boolean(visible);
    this._changed();
  }

  setMask(mask) {
    if (mask == null) {
      this.mask = null;
      this._changed();
      return;
    }
    const { descriptor, data } = normaliseOverlay(mask, this.frames, { mask: true });
    this.mask = {
      descriptor,
      data,
      color: mask.color || this.maskColor,
      visible: mask.visible ?? true,
      segments: new Map(),
    };
    this._changed();
  }

  setMaskVisible(visible) {
    if (this.mask) {
      this.mask.visible = Boolean(visible);
      this._changed();
    }
  }

  /** Re-validate overlays given before the slice count was known. */
  revalidate() {
    const errors = [];
    for (const [name, o] of this.overlays) {
      if (o.descriptor.shape[0] !== this.frames) {
        this.overlays.delete(name);
        errors.push(new Error(`overlay "${name}" has ${o.descriptor.shape[0]} frames, series has ${this.frames}`));
      }
    }
    if (this.mask && this.mask.descriptor.shape[0] !== this.frames) {
      this.mask = null;
      errors.push(new Error(`mask has a frame count different from the series (${this.frames})`));
    }
    this._colorbars();
    return errors;
  }

  state() {
    const out = {};
    for (const [name, o] of this.overlays) {
      out[name] = {
        method: o.descriptor.method,
        signed: o.descriptor.signed,
        visible: o.visible,
        opacity: o.opacity,
        ...(o.descriptor.label ? { label: o.descriptor.label } : {}),
        ...(o.descriptor.display ? { display: o.descriptor.display } : {}),
      };
    }
    return {
      overlays: out,
      mask: this.mask ? { visible: this.mask.visible, color: this.mask.color } : null,
    };
  }

  /** Redraw this layer and its mirrors after a change of maps or mask. */
  _changed() {
    for (const l of [this, ...this.mirrors]) {
      l._colorbars();
      l.draw();
    }
  }

  /** Heatmaps drawn here (the source's for a mirror) and the mask drawn here. */
  _maps() {
    return (this.source || this).overlays;
  }

  _mask() {
    return this.mask || (this.source ? this.source.mask : null);
  }

  _get(name) {
    const o = this.overlays.get(String(name));
    if (!o) throw new Error(`no overlay named "${name}"`);
    return o;
  }

  // ---- drawing -------------------------------------------------------------
  _resize() {
    const vpCanvas = this.viewport?.canvas;
    const cssW = vpCanvas?.clientWidth || this.host.clientWidth;
    const cssH = vpCanvas?.clientHeight || this.host.clientHeight;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(cssW * dpr));
    const h = Math.max(1, Math.round(cssH * dpr));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    return dpr;
  }

  /** Affine grid(u along cols, v along rows) -> device pixels for the current image. */
  _affine(imageId, gridRows, gridCols, dpr) {
    const plane = metaData.get('imagePlaneModule', imageId);
    if (!plane || !plane.imagePositionPatient) return null;
    const ipp = plane.imagePositionPatient;
    const rc = plane.rowCosines || [1, 0, 0];
    const cc = plane.columnCosines || [0, 1, 0];
    const colSp = plane.columnPixelSpacing || 1; // between columns (along a row)
    const rowSp = plane.rowPixelSpacing || 1; // between rows
    const rows = plane.rows;
    const cols = plane.columns;
    const world = (u, v) => {
      const i = (u * cols) / gridCols - 0.5;
      const j = (v * rows) / gridRows - 0.5;
      return [
        ipp[0] + rc[0] * i * colSp + cc[0] * j * rowSp,
        ipp[1] + rc[1] * i * colSp + cc[1] * j * rowSp,
        ipp[2] + rc[2] * i * colSp + cc[2] * j * rowSp,
      ];
    };
    const p0 = this.viewport.worldToCanvas(world(0, 0));
    const pu = this.viewport.worldToCanvas(world(gridCols, 0));
    const pv = this.viewport.worldToCanvas(world(0, gridRows));
    return [
      ((pu[0] - p0[0]) / gridCols) * dpr,
      ((pu[1] - p0[1]) / gridCols) * dpr,
      ((pv[0] - p0[0]) / gridRows) * dpr,
      ((pv[1] - p0[1]) / gridRows) * dpr,
      p0[0] * dpr,
      p0[1] * dpr,
    ];
  }

  _frameCanvas(o, index) {
    if (o.frameIndex === index && o.frameCanvas) return o.frameCanvas;
    const [, rows, cols] = o.descriptor.shape;
    if (!o.frameCanvas) {
      o.frameCanvas = document.createElement('canvas');
      o.frameCanvas.width = cols;
      o.frameCanvas.height = rows;
    }
    const ctx = o.frameCanvas.getContext('2d');
    const img = ctx.createImageData(cols, rows);
    const out = new Uint32Array(img.data.buffer);
    const off = index * rows * cols;
    const { data, lut32 } = o;
    for (let k = 0; k < rows * cols; k++) out[k] = lut32[data[off + k]];
    ctx.putImageData(img, 0, 0);
    o.frameIndex = index;
    return o.frameCanvas;
  }

  hasVisible() {
    if (this.suppressed) return false;
    for (const o of this._maps().values()) if (o.visible && o.opacity > 0) return true;
    const mask = this._mask();
    return Boolean(mask && mask.visible);
  }

  draw() {
    const ctx = this.canvas.getContext('2d');
    const dpr = this._resize();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (!this.viewport || !this.hasVisible()) return;
    let imageId;
    try {
      imageId = this.viewport.getCurrentImageId();
    } catch {
      return;
    }
    const index = this.indexOf.get(imageId);
    if (index === undefined) return;
    for (const o of this._maps().values()) {
      if (!o.visible || o.opacity <= 0) continue;
      const [, rows, cols] = o.descriptor.shape;
      const m = this._affine(imageId, rows, cols, dpr);
      if (!m) continue;
      const src = this._frameCanvas(o, index);
      ctx.save();
      ctx.setTransform(m[0], m[1], m[2], m[3], m[4], m[5]);
      ctx.globalAlpha = o.opacity;
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(src, 0, 0);
      ctx.restore();
    }
    const mask = this._mask();
    if (mask && mask.visible) this._drawMask(ctx, mask, imageId, index, dpr);
  }

  _drawMask(ctx, mk, imageId, index, dpr) {
    const [, rows, cols] = mk.descriptor.shape;
    let seg = mk.segments.get(index);
    if (!seg) {
      seg = maskSegments(mk.data, index * rows * cols, rows, cols);
      mk.segments.set(index, seg);
    }
    if (seg.length === 0) return;
    const m = this._affine(imageId, rows, cols, dpr);
    if (!m) return;
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.beginPath();
    for (let k = 0; k < seg.length; k += 4) {
      const x0 = seg[k];
      const y0 = seg[k + 1];
      const x1 = seg[k + 2];
      const y1 = seg[k + 3];
      ctx.moveTo(m[0] * x0 + m[2] * y0 + m[4], m[1] * x0 + m[3] * y0 + m[5]);
      ctx.lineTo(m[0] * x1 + m[2] * y1 + m[4], m[1] * x1 + m[3] * y1 + m[5]);
    }
    ctx.lineCap = 'square';
    ctx.lineWidth = 1.5 * dpr;
    ctx.strokeStyle = mk.color;
    ctx.stroke();
    ctx.restore();
  }

  // ---- colour bars ---------------------------------------------------------
  _colorbars() {
    const host = this.colorbarHost;
    if (!host) return;
    host.textContent = '';
    if (this.suppressed) return;
    for (const o of this._maps().values()) {
      if (!o.visible) continue;
      host.appendChild(buildColorbar(o.descriptor));
    }
  }

  destroy() {
    if (this.source) this.source.mirrors.delete(this);
    for (const m of this.mirrors) m.source = null;
    this.mirrors.clear();
    this.overlays.clear();
    this.mask = null;
    this.canvas.remove();
    if (this.colorbarHost) this.colorbarHost.textContent = '';
  }
}

function clamp01(x) {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
