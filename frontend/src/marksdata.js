// Pure helpers of the marks answer (no Cornerstone, no DOM; tested with node --test):
// Cornerstone annotation handles <-> the answer's marks, slice marks, keyboard shortcuts.
//
// Answer shape (scored by the FROC analyses, fixed):
//   {marks: [{id, tool, sop_instance_uid, point_mm, rating, extent_mm?: {corners_mm: [a, b]}}],
//    slice_marks: [{sop_instance_uid, label}], segmentation: null | {file, sha256, voxels}}
// Coordinates are patient (LPS) mm, which are Cornerstone's world coordinates.

/** Cornerstone tool name of each lesion-mark tool. */
export const TOOL_NAMES = { point: 'Probe', ellipse: 'EllipticalROI', rectangle: 'RectangleROI' };
export const LESION_TOOLS = Object.keys(TOOL_NAMES);

/** Keyboard shortcuts of the marks tools (documented in the workspace's key table). */
export const SHORTCUTS = {
  p: 'point',
  e: 'ellipse',
  q: 'rectangle',
  b: 'brush',
  t: 'threshold',
  x: 'eraser',
  s: 'slice',
  w: null, // back to window/level
  escape: null,
};

const add = (a, b) => a.map((v, i) => v + b[i]);
const sub = (a, b) => a.map((v, i) => v - b[i]);
const scale = (a, k) => a.map((v) => v * k);
const dot = (a, b) => a.reduce((s, v, i) => s + v * b[i], 0);
const round = (a) => a.map((v) => Math.round(v * 1000) / 1000);

/** The centre of two points. */
export function midpoint(a, b) {
  return scale(add(a, b), 0.5);
}

/**
 * A mark of the answer from a Cornerstone annotation's tool and world handle points:
 * Probe [p]; RectangleROI [tl, tr, bl, br]; EllipticalROI [bottom, top, left, right].
 */
export function markFromHandles(tool, points, { id, sopInstanceUID, rating }) {
  const mark = { id, tool, sop_instance_uid: sopInstanceUID, point_mm: null, rating };
  if (tool === 'point') {
    mark.point_mm = round(points[0]);
    return mark;
  }
  let a, b;
  if (tool === 'rectangle') {
    [a, b] = [points[0], points[3]];
  } else if (tool === 'ellipse') {
    const centre = midpoint(points[0], points[1]);
    const h1 = scale(sub(points[0], points[1]), 0.5);
    const h2 = scale(sub(points[3], points[2]), 0.5);
    a = sub(sub(centre, h1), h2);
    b = add(add(centre, h1), h2);
  } else {
    throw new Error(`unknown mark tool "${tool}"`);
  }
  mark.point_mm = round(midpoint(a, b));
  mark.extent_mm = { corners_mm: [round(a), round(b)] };
  return mark;
}

/**
 * Handle points of a mark for its Cornerstone tool, on the image plane given by its row and
 * column directions (ImageOrientationPatient): the inverse of markFromHandles.
 */
export function handlesFromMark(mark, rowDir, colDir) {
  if (mark.tool === 'point') return [mark.point_mm.slice()];
  const [a, b] = mark.extent_mm.corners_mm;
  const c = midpoint(a, b);
  const d = sub(b, a);
  const hr = scale(rowDir, dot(d, rowDir) / 2);
  const hc = scale(colDir, dot(d, colDir) / 2);
  if (mark.tool === 'rectangle') {
    return [sub(sub(c, hr), hc), sub(add(c, hr), hc), add(sub(c, hr), hc), add(add(c, hr), hc)];
  }
  if (mark.tool === 'ellipse') return [add(c, hc), sub(c, hc), sub(c, hr), add(c, hr)];
  throw new Error(`unknown mark tool "${mark.tool}"`);
}

/** The rating a new mark starts with: the middle of the scale, rounded up. */
export function defaultRating(config) {
  return Math.ceil((config.rating_min + config.rating_max) / 2);
}

/** The marks settings of a question with the server's defaults filled in. */
export function marksConfig(question) {
  return { tools: ['point', 'ellipse', 'rectangle', 'slice', 'brush'], rating_min: 1, rating_max: 5, max_marks: 20, threshold_hu_low: 40, threshold_hu_high: 90, ...(question.config || {}) };
}

/** An empty answer. */
export function emptyValue() {
  return { marks: [], slice_marks: [], segmentation: null };
}

/** The slice marks with one (slice, label) pair added, or taken away when it is there. */
export function toggleSliceMark(sliceMarks, sopInstanceUID, label) {
  const has = sliceMarks.some((m) => m.sop_instance_uid === sopInstanceUID && m.label === label);
  if (has) return sliceMarks.filter((m) => !(m.sop_instance_uid === sopInstanceUID && m.label === label));
  return [...sliceMarks, { sop_instance_uid: sopInstanceUID, label }];
}

/** The answer as it is sent: marks in the order placed, only the fields of the contract. */
export function answerValue(marks, sliceMarks, segmentation) {
  return {
    marks: marks.map((m) => {
      const out = { id: m.id, tool: m.tool, sop_instance_uid: m.sop_instance_uid, point_mm: m.point_mm, rating: m.rating };
      if (m.extent_mm) out.extent_mm = { corners_mm: m.extent_mm.corners_mm };
      return out;
    }),
    slice_marks: sliceMarks.map((m) => ({ sop_instance_uid: m.sop_instance_uid, label: m.label })),
    segmentation: segmentation ? { file: segmentation.file, sha256: segmentation.sha256, voxels: segmentation.voxels } : null,
  };
}

/** The tool a key selects (undefined: not a marks key), given the tools allowed. */
export function toolForKey(key, allowed) {
  const k = String(key).toLowerCase();
  if (!(k in SHORTCUTS)) return undefined;
  const tool = SHORTCUTS[k];
  if (tool === null) return null;
  const needs = tool === 'threshold' || tool === 'eraser' ? 'brush' : tool;
  return allowed.includes(needs) ? tool : undefined;
}

/** Binary mask bytes (0/1) from labelmap slices (any typed arrays, non-zero = inside). */
export function packMask(slices, size) {
  const out = new Uint8Array(slices.length * size);
  let voxels = 0;
  slices.forEach((data, k) => {
    if (!data) return;
    const base = k * size;
    for (let i = 0; i < size; i++) {
      if (data[i]) {
        out[base + i] = 1;
        voxels += 1;
      }
    }
  });
  return { bytes: out, voxels };
}
