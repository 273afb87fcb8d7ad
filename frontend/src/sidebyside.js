// Side-by-side mode of one viewer: the main viewport shows the original image,
// a second StackViewport the same slice with the saliency maps, and a third
// (when the page gives a ground-truth mask) the truth outline. All panels are
// viewports of the viewer's rendering engine on the same stack; the slice is
// kept in step here (every panel scrolls all), zoom/pan and window/level by
// @cornerstonejs/tools synchronizers (tools.js).
import { Enums as csEnums } from '@cornerstonejs/core';
import { OverlayLayer } from './overlay.js';

export const TRUTH_COLOR = '#00e5ff';
const TITLES = { original: 'Original', saliency: 'Saliency', truth: 'Ground truth' };

function div(className, parent) {
  const e = document.createElement('div');
  e.className = className;
  parent.appendChild(e);
  return e;
}

export class SideBySide {
  /** `ctx`: {root, mainEl, mainLayer, engine(), viewport(), imageIds(), viewportId, loadTools(), toolGroupId, renderingEngineId, onChange}. */
  constructor(ctx) {
    this.ctx = ctx;
    this.panels = []; // {kind, el, viewportId, viewport, layer, title, cleanups}
    this.on = false;
    this.unsync = null;
    this.mainTitle = null;
    this.syncing = false;
  }

  /** {on, panels: ['original', 'saliency', 'truth'?], slices: the slice index shown in each}. */
  state() {
    if (!this.on) return { on: false, panels: [], slices: [] };
    const vps = [this.ctx.viewport(), ...this.panels.map((p) => p.viewport)];
    return {
      on: true,
      panels: ['original', ...this.panels.map((p) => p.kind)],
      slices: vps.map((vp) => (vp ? vp.getCurrentImageIdIndex() : null)),
    };
  }

  async enable({ truthMask = null } = {}) {
    if (this.on) this.disable();
    const { ctx } = this;
    const engine = ctx.engine();
    const main = ctx.viewport();
    if (!engine || !main) throw new Error('side by side: the viewer is not ready yet');
    const kinds = ['saliency', ...(truthMask ? ['truth'] : [])];
    const n = kinds.length + 1;
    ctx.root.classList.add('rsv-sbs');
    this.mainTitle = div('rsv-panel-title', ctx.mainEl);
    this.mainTitle.textContent = TITLES.original;
    const props = main.getProperties();
    const index = main.getCurrentImageIdIndex();
    const ids = ctx.imageIds();
    for (const [k, kind] of kinds.entries()) {
      const el = div('rsv-viewport rsv-panel', ctx.root);
      el.dataset.panel = kind;
      el.tabIndex = 0;
      el.setAttribute('role', 'img');
      el.setAttribute('aria-label', `${TITLES[kind]} view of the same slice`);
      el.addEventListener('contextmenu', (e) => e.preventDefault());
      const title = div('rsv-panel-title', el);
      title.textContent = TITLES[kind];
      const colorbars = div('rsv-bl rsv-colorbars', el);
      const layer =
        kind === 'saliency'
          ? new OverlayLayer(el, colorbars, { source: ctx.mainLayer })
          : new OverlayLayer(el, colorbars, { color: TRUTH_COLOR });
      const viewportId = `${ctx.viewportId}-${kind}`;
      engine.enableElement({
        viewportId,
        type: csEnums.ViewportType.STACK,
        element: el,
        defaultOptions: { background: [0, 0, 0] },
      });
      const viewport = engine.getViewport(viewportId);
      const panel = { kind, el, viewportId, viewport, layer, title, cleanups: [], position: k + 1 };
      this.panels.push(panel);
      layer.attach(viewport, ids);
      if (kind === 'truth') layer.setMask(truthMask);
      const onRendered = () => layer.draw();
      const onNewImage = (e) => this._follow(panel.viewport, e.detail?.imageIdIndex ?? viewport.getCurrentImageIdIndex());
      el.addEventListener(csEnums.Events.IMAGE_RENDERED, onRendered);
      el.addEventListener(csEnums.Events.STACK_NEW_IMAGE, onNewImage);
      panel.cleanups.push(() => el.removeEventListener(csEnums.Events.IMAGE_RENDERED, onRendered));
      panel.cleanups.push(() => el.removeEventListener(csEnums.Events.STACK_NEW_IMAGE, onNewImage));
    }
    this._layout(n);
    // Each panel shows the whole slice: the main viewport is fitted to its new width.
    engine.resize(true, false);
    await Promise.all(this.panels.map((p) => p.viewport.setStack(ids, index)));
    for (const p of this.panels) {
      p.viewport.setProperties({ voiRange: props.voiRange, invert: props.invert });
      p.viewport.render();
    }
    ctx.mainLayer.suppressed = true;
    ctx.mainLayer._changed();
    const tools = await ctx.loadTools();
    this.unsync = tools.syncViewports(ctx.toolGroupId, ctx.renderingEngineId, [
      ctx.viewportId,
      ...this.panels.map((p) => p.viewportId),
    ]);
    // Same camera as the main viewport from the start (zoom/pan already applied there).
    const cam = main.getCamera();
    for (const p of this.panels) {
      p.viewport.setCamera({ parallelScale: cam.parallelScale, focalPoint: cam.focalPoint, position: cam.position });
      p.viewport.render();
    }
    this.on = true;
    ctx.onChange(this.state());
  }

  /** A panel (or the main viewport) moved to slice `index`: the others follow. */
  follow(index) {
    this._follow(this.ctx.viewport(), index);
  }

  _follow(from, index) {
    if (!this.on || this.syncing) return;
    this.syncing = true;
    try {
      for (const vp of [this.ctx.viewport(), ...this.panels.map((p) => p.viewport)]) {
        if (vp && vp !== from && vp.getCurrentImageIdIndex() !== index) vp.setImageIdIndex(index).catch(() => {});
      }
    } finally {
      this.syncing = false;
    }
  }

  _layout(n) {
    const w = 100 / n;
    const style = (el, k) => {
      el.style.left = `calc(${(k * w).toFixed(4)}% + ${k ? 1 : 0}px)`;
      el.style.width = `calc(${w.toFixed(4)}% - ${k ? 1 : 0}px)`;
      el.style.right = 'auto';
    };
    style(this.ctx.mainEl, 0);
    this.panels.forEach((p) => style(p.el, p.position));
  }

  disable() {
    if (!this.panels.length && !this.on) return;
    const { ctx } = this;
    if (this.unsync) this.unsync();
    this.unsync = null;
    const engine = ctx.engine();
    for (const p of this.panels) {
      p.cleanups.forEach((fn) => fn());
      try {
        engine?.disableElement(p.viewportId);
      } catch (e) {
        console.warn(e);
      }
      p.layer.destroy();
      p.el.remove();
    }
    this.panels = [];
    if (this.mainTitle) this.mainTitle.remove();
    this.mainTitle = null;
    for (const k of ['left', 'width', 'right']) ctx.mainEl.style[k] = '';
    ctx.root.classList.remove('rsv-sbs');
    ctx.mainLayer.suppressed = false;
    ctx.mainLayer._changed();
    const wasOn = this.on;
    this.on = false;
    if (engine) engine.resize(true, false);
    if (wasOn) ctx.onChange(this.state());
  }
}
