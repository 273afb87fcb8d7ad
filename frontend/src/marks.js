// Marks on the viewer's stack (a core chunk, loaded only for a study with a marks question):
// lesion marks with Cornerstone's annotation tools (Probe, EllipticalROI, RectangleROI), a
// segmentation with its BrushTool on a stack labelmap (fill, threshold-assisted fill inside an
// HU range, erase), undo/redo through Cornerstone's history memo, and the model's marks drawn
// locked in their own colour. The answer's marks are read from the annotation state.
import { cache, eventTarget, imageLoader, metaData, utilities as csUtils } from '@cornerstonejs/core';
import {
  addTool,
  annotation,
  BrushTool,
  EllipticalROITool,
  Enums as toolsEnums,
  ProbeTool,
  RectangleROITool,
  segmentation,
  ToolGroupManager,
  utilities as toolsUtils,
} from '@cornerstonejs/tools';
import { handlesFromMark, markFromHandles, packMask, TOOL_NAMES } from './marksdata.js';

const BRUSH = 'ReaderBrush';
const THRESHOLD = 'ReaderThresholdBrush';
const ERASER = 'ReaderEraser';
const BRUSH_TOOLS = { brush: BRUSH, threshold: THRESHOLD, eraser: ERASER };
const MODEL_COLOR = 'rgb(255, 170, 0)';
const READER_COLOR = 'rgb(0, 220, 120)';
const WL = 'WindowLevel';
let added = false;

function cross(a, b) {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function addToolsOnce() {
  if (added) return;
  for (const T of [ProbeTool, EllipticalROITool, RectangleROITool, BrushTool]) addTool(T);
  added = true;
}

/**
 * Marks on one mounted viewer. `ctx`: {element, viewport, toolGroupId, viewportId, imageIds,
 * sorted ([{sopInstanceUID}] in stack order), onChange()}.
 */
export function createMarks(ctx) {
  addToolsOnce();
  const tg = ToolGroupManager.getToolGroup(ctx.toolGroupId);
  const MB = toolsEnums.MouseBindings;
  for (const name of Object.values(TOOL_NAMES)) {
    tg.addTool(name, { getTextLines: (data) => (data.label ? [data.label] : []) });
    tg.setToolPassive(name);
  }
  tg.addToolInstance(BRUSH, BrushTool.toolName, { activeStrategy: 'FILL_INSIDE_CIRCLE', brushSize: 8 });
  tg.addToolInstance(THRESHOLD, BrushTool.toolName, {
    activeStrategy: 'THRESHOLD_INSIDE_CIRCLE',
    brushSize: 12,
    threshold: { range: [40, 90], isDynamic: false },
  });
  tg.addToolInstance(ERASER, BrushTool.toolName, { activeStrategy: 'ERASE_INSIDE_CIRCLE', brushSize: 8 });

  const uidIndex = new Map(ctx.sorted.map((s, i) => [s.sopInstanceUID, i]));
  const imageIndex = new Map(ctx.imageIds.map((id, i) => [id, i]));
  const ratings = new Map(); // annotation UID -> rating
  const modelUIDs = new Set();
  const order = []; // reader annotation UIDs in the order placed
  let readOnly = false;
  let tool = null;
  let newRating = 3;
  let segId = null;
  let labelmapIds = null;
  const offs = [];

  function listen(type, fn) {
    eventTarget.addEventListener(type, fn);
    offs.push(() => eventTarget.removeEventListener(type, fn));
  }

  function isOurs(a) {
    const tools = Object.values(TOOL_NAMES);
    return a && tools.includes(a.metadata.toolName) && imageIndex.has(a.metadata.referencedImageId) && !modelUIDs.has(a.annotationUID);
  }
  function toolOf(a) {
    return Object.keys(TOOL_NAMES).find((k) => TOOL_NAMES[k] === a.metadata.toolName);
  }
  function setLabel(a) {
    a.data.label = String(ratings.get(a.annotationUID) ?? '');
  }

  function onAnnotation(evt) {
    const a = evt.detail.annotation;
    if (!isOurs(a)) return;
    if (readOnly) return;
    if (!ratings.has(a.annotationUID)) {
      ratings.set(a.annotationUID, newRating);
      order.push(a.annotationUID);
      annotation.config.style.setAnnotationStyles(a.annotationUID, { color: READER_COLOR });
      setLabel(a);
    }
    ctx.onChange();
  }
  const E = toolsEnums.Events;
  listen(E.ANNOTATION_COMPLETED, onAnnotation);
  listen(E.ANNOTATION_MODIFIED, onAnnotation);
  listen(E.ANNOTATION_REMOVED, () => ctx.onChange());
  listen(E.HISTORY_UNDO, () => ctx.onChange());
  listen(E.HISTORY_REDO, () => ctx.onChange());
  listen(E.SEGMENTATION_DATA_MODIFIED, (evt) => {
    if (evt.detail.segmentationId === segId) ctx.onChange({ segmentation: true });
  });

  function readerAnnotations() {
    const present = new Map();
    for (const a of annotation.state.getAllAnnotations()) if (isOurs(a)) present.set(a.annotationUID, a);
    // Placed by undo/redo (or another path) without our event: adopt them.
    for (const uid of present.keys()) if (!order.includes(uid)) order.push(uid);
    return order.filter((uid) => present.has(uid)).map((uid) => present.get(uid));
  }

  function render() {
    ctx.viewport.render();
  }

  function ensureSegmentation() {
    if (segId) return;
    const images = imageLoader.createAndCacheDerivedLabelmapImages(ctx.imageIds);
    labelmapIds = images.map((i) => i.imageId);
    segId = `rs-reader-seg-${ctx.viewportId}`;
    segmentation.addSegmentations([
      {
        segmentationId: segId,
        representation: { type: toolsEnums.SegmentationRepresentations.Labelmap, data: { imageIds: labelmapIds } },
      },
    ]);
    segmentation.addLabelmapRepresentationToViewport(ctx.viewportId, [{ segmentationId: segId }]);
    segmentation.segmentIndex.setActiveSegmentIndex(segId, 1);
  }

  function labelmapSlice(k) {
    const image = cache.getImage(labelmapIds[k]);
    return image ? image.voxelManager.getScalarData() : null;
  }

  const api = {
    /** The reader's marks, as the answer holds them. */
    getMarks() {
      return readerAnnotations().map((a) => {
        const mark = markFromHandles(toolOf(a), a.data.handles.points, {
          id: a.annotationUID,
          sopInstanceUID: ctx.sorted[imageIndex.get(a.metadata.referencedImageId)].sopInstanceUID,
          rating: ratings.get(a.annotationUID) ?? newRating,
        });
        return mark;
      });
    },
    /** Replace the reader's marks with those of a saved answer. */
    setMarks(marks) {
      for (const a of readerAnnotations()) annotation.state.removeAnnotation(a.annotationUID);
      order.length = 0;
      ratings.clear();
      for (const mark of marks || []) {
        const index = uidIndex.get(mark.sop_instance_uid);
        if (index === undefined || !TOOL_NAMES[mark.tool]) continue;
        addAnnotation(mark, index, READER_COLOR);
        ratings.set(mark.id, mark.rating);
        order.push(mark.id);
      }
      render();
    },
    /** The model's marks ({point_mm, sop_instance_uid, probability, extent_mm}), locked, own colour. */
    setModelMarks(list) {
      for (const uid of modelUIDs) annotation.state.removeAnnotation(uid);
      modelUIDs.clear();
      (list || []).forEach((m, i) => {
        const index = uidIndex.get(m.sop_instance_uid);
        if (index === undefined) return;
        const id = `${m.id || `model-${i}`}-${ctx.viewportId}`;
        // Onto the plane of its slice: a model mark's box spans slices, its centroid lies between them.
        const onPlane = (p) => projectOnSlice(p, index);
        const extent = m.extent_mm ? { corners_mm: m.extent_mm.corners_mm.map(onPlane) } : undefined;
        const mark = { id, tool: extent ? 'ellipse' : 'point', point_mm: onPlane(m.point_mm), extent_mm: extent };
        modelUIDs.add(id);
        const a = addAnnotation(mark, index, MODEL_COLOR, `AI ${Math.round(m.probability * 100)}%`);
        annotation.locking.setAnnotationLocked(a.annotationUID, true);
      });
      render();
    },
    getModelMarks: () => [...modelUIDs],
    setRating(id, rating) {
      ratings.set(id, rating);
      const a = annotation.state.getAnnotation(id);
      if (a) setLabel(a);
      render();
      ctx.onChange();
    },
    setNewRating(rating) {
      newRating = rating;
    },
    remove(id) {
      annotation.state.removeAnnotation(id);
      ratings.delete(id);
      const i = order.indexOf(id);
      if (i >= 0) order.splice(i, 1);
      render();
      ctx.onChange();
    },
    /** The stack index of a slice (by SOP Instance UID). */
    sliceIndex: (uid) => uidIndex.get(uid),
    /** Make `name` (point, ellipse, rectangle, brush, threshold, eraser; null: window/level) the left-button tool. */
    setTool(name) {
      if (readOnly && name) return tool;
      const primary = [{ mouseButton: MB.Primary }];
      for (const n of Object.values(BRUSH_TOOLS)) tg.setToolDisabled(n);
      for (const n of Object.values(TOOL_NAMES)) tg.setToolPassive(n);
      tg.setToolPassive(WL);
      tool = name || null;
      if (BRUSH_TOOLS[tool]) {
        ensureSegmentation();
        tg.setToolActive(BRUSH_TOOLS[tool], { bindings: primary });
      } else if (TOOL_NAMES[tool]) {
        tg.setToolActive(TOOL_NAMES[tool], { bindings: primary });
      } else {
        tool = null;
        tg.setToolActive(WL, { bindings: primary });
      }
      render();
      return tool;
    },
    getTool: () => tool,
    /** The HU range the threshold brush fills inside. */
    setThreshold(lower, upper) {
      toolsUtils.segmentation.setBrushThresholdForToolGroup(ctx.toolGroupId, { range: [lower, upper], isDynamic: false });
      const t = tg.getToolInstance(THRESHOLD);
      if (t) t.configuration = { ...t.configuration, threshold: { ...t.configuration.threshold, range: [lower, upper], isDynamic: false } };
    },
    setBrushSize(size) {
      toolsUtils.segmentation.setBrushSizeForToolGroup(ctx.toolGroupId, size);
    },
    undo() {
      csUtils.HistoryMemo.DefaultHistoryMemo.undo();
      render();
      ctx.onChange({ segmentation: true });
    },
    redo() {
      csUtils.HistoryMemo.DefaultHistoryMemo.redo();
      render();
      ctx.onChange({ segmentation: true });
    },
    canUndo: () => csUtils.HistoryMemo.DefaultHistoryMemo.canUndo,
    canRedo: () => csUtils.HistoryMemo.DefaultHistoryMemo.canRedo,
    /** The segmentation as {bytes (0/1, slices x rows x columns), voxels, shape}; null if none. */
    getMask() {
      if (!segId) return null;
      const first = metaData.get('imagePlaneModule', ctx.imageIds[0]);
      const size = first.rows * first.columns;
      const { bytes, voxels } = packMask(labelmapIds.map((_, k) => labelmapSlice(k)), size);
      return { bytes, voxels, shape: [labelmapIds.length, first.rows, first.columns] };
    },
    /** Paint a saved mask (bytes 0/1, slices x rows x columns) into the labelmap. */
    setMask(bytes) {
      ensureSegmentation();
      const first = metaData.get('imagePlaneModule', ctx.imageIds[0]);
      const size = first.rows * first.columns;
      labelmapIds.forEach((_, k) => {
        const image = cache.getImage(labelmapIds[k]);
        if (!image) return;
        const vm = image.voxelManager;
        const data = vm.getScalarData();
        for (let i = 0; i < size; i++) data[i] = bytes[k * size + i] ? 1 : 0;
        if (typeof vm.setScalarData === 'function') vm.setScalarData(data);
      });
      segmentation.triggerSegmentationEvents.triggerSegmentationDataModified(segId);
      render();
    },
    hasSegmentation: () => Boolean(segId),
    /** No more edits: tools off, every mark locked. */
    setReadOnly(on) {
      readOnly = Boolean(on);
      if (readOnly) api.setTool(null);
      for (const a of readerAnnotations()) annotation.locking.setAnnotationLocked(a.annotationUID, readOnly);
      for (const n of Object.values(TOOL_NAMES)) (readOnly ? tg.setToolEnabled(n) : tg.setToolPassive(n));
      render();
    },
    isReadOnly: () => readOnly,
    destroy() {
      offs.splice(0).forEach((off) => off());
      for (const a of annotation.state.getAllAnnotations()) {
        if (imageIndex.has(a.metadata.referencedImageId)) annotation.state.removeAnnotation(a.annotationUID);
      }
      if (segId) {
        try {
          segmentation.removeSegmentation(segId);
        } catch {
          /* already gone with the viewport */
        }
      }
    },
  };

  function projectOnSlice(p, index) {
    const plane = metaData.get('imagePlaneModule', ctx.imageIds[index]);
    const n = cross(plane.rowCosines, plane.columnCosines);
    const o = plane.imagePositionPatient;
    const off = (p[0] - o[0]) * n[0] + (p[1] - o[1]) * n[1] + (p[2] - o[2]) * n[2];
    return [p[0] - off * n[0], p[1] - off * n[1], p[2] - off * n[2]];
  }

  function addAnnotation(mark, index, color, label) {
    const imageId = ctx.imageIds[index];
    const plane = metaData.get('imagePlaneModule', imageId);
    const rowDir = plane.rowCosines;
    const colDir = plane.columnCosines;
    const normal = cross(rowDir, colDir);
    const a = {
      annotationUID: mark.id,
      highlighted: false,
      isLocked: false,
      isVisible: true,
      invalidated: true,
      metadata: {
        toolName: TOOL_NAMES[mark.tool],
        referencedImageId: imageId,
        FrameOfReferenceUID: plane.frameOfReferenceUID,
        viewPlaneNormal: normal,
        viewUp: colDir.map((v) => -v),
      },
      data: {
        label: label ?? String(mark.rating ?? ''),
        handles: { points: handlesFromMark(mark, rowDir, colDir), activeHandleIndex: null, textBox: { hasMoved: false } },
        cachedStats: {},
      },
    };
    annotation.state.addAnnotation(a, ctx.element);
    annotation.config.style.setAnnotationStyles(mark.id, { color });
    return a;
  }

  return api;
}
