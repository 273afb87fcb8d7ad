// The mouse tools (W/L, zoom, pan, wheel scroll): a separate chunk of the core,
// imported after the first image, so they do not delay it.
import {
  addTool,
  Enums as toolsEnums,
  init as toolsInit,
  PanTool,
  StackScrollTool,
  state as toolsState,
  store,
  SynchronizerManager,
  synchronizers,
  ToolGroupManager,
  WindowLevelTool,
  ZoomTool,
} from '@cornerstonejs/tools';

let ready = false;

/** Create the viewer's tool group on a viewport (OHIF-like bindings). */
export function attachTools(toolGroupId, viewportId, renderingEngineId, element) {
  if (!ready) {
    toolsInit();
    for (const T of [WindowLevelTool, ZoomTool, PanTool, StackScrollTool]) addTool(T);
    ready = true;
  }
  // init() wires up elements enabled after it; this one was enabled before the
  // tools were loaded (first mount): wire it up the same way.
  if (!toolsState.enabledElements.includes(element)) {
    store.addEnabledElement({ detail: { element, viewportId, renderingEngineId } });
  }
  const tg = ToolGroupManager.createToolGroup(toolGroupId);
  tg.addTool(WindowLevelTool.toolName);
  tg.addTool(ZoomTool.toolName);
  tg.addTool(PanTool.toolName);
  tg.addTool(StackScrollTool.toolName);
  const MB = toolsEnums.MouseBindings;
  tg.setToolActive(WindowLevelTool.toolName, { bindings: [{ mouseButton: MB.Primary }] });
  tg.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MB.Secondary }] });
  tg.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: MB.Auxiliary }] });
  tg.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: MB.Wheel }] });
  tg.addViewport(viewportId, renderingEngineId);
}

export function destroyTools(toolGroupId) {
  try {
    ToolGroupManager.destroyToolGroup(toolGroupId);
  } catch {
    /* never created */
  }
}

/**
 * Side by side: the viewports (the first one is the tool group's) share the
 * mouse tools, zoom/pan and window/level (Cornerstone synchronizers). Returns
 * a function that undoes it. The slice is kept in step by the caller.
 */
export function syncViewports(toolGroupId, renderingEngineId, viewportIds) {
  const tg = ToolGroupManager.getToolGroup(toolGroupId);
  const extra = viewportIds.slice(1);
  if (tg) for (const viewportId of extra) tg.addViewport(viewportId, renderingEngineId);
  const base = `${toolGroupId}-sbs`;
  const made = [
    synchronizers.createZoomPanSynchronizer(`${base}-zoompan`),
    synchronizers.createVOISynchronizer(`${base}-voi`, { syncInvertState: true, syncColormap: false }),
  ];
  for (const s of made) for (const viewportId of viewportIds) s.add({ renderingEngineId, viewportId });
  return () => {
    for (const s of made) SynchronizerManager.destroySynchronizer(s.id);
    if (tg) for (const viewportId of extra) tg.removeViewports(renderingEngineId, viewportId);
  };
}
