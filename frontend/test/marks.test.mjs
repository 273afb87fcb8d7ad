// The marks answer helpers: cd frontend && node --test test/
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  answerValue,
  defaultRating,
  handlesFromMark,
  markFromHandles,
  marksConfig,
  packMask,
  toggleSliceMark,
  toolForKey,
} from '../src/marksdata.js';

const ROW = [1, 0, 0];
const COL = [0, 1, 0];
const meta = { id: 'a1', sopInstanceUID: '1.2.3', rating: 4 };

test('a point mark is its handle, rounded to a micrometre', () => {
  const m = markFromHandles('point', [[1.00001, -2.5, 30]], meta);
  assert.deepEqual(m, { id: 'a1', tool: 'point', sop_instance_uid: '1.2.3', point_mm: [1, -2.5, 30], rating: 4 });
});

test('a rectangle is its opposite corners, centred', () => {
  const pts = [[0, 0, 5], [10, 0, 5], [0, 6, 5], [10, 6, 5]];
  const m = markFromHandles('rectangle', pts, meta);
  assert.deepEqual(m.extent_mm.corners_mm, [[0, 0, 5], [10, 6, 5]]);
  assert.deepEqual(m.point_mm, [5, 3, 5]);
});

test('an ellipse is inscribed in its bounding box', () => {
  // bottom, top, left, right of an ellipse centred at (5, 3) with half-axes 5 (x) and 3 (y)
  const pts = [[5, 6, 0], [5, 0, 0], [0, 3, 0], [10, 3, 0]];
  const m = markFromHandles('ellipse', pts, meta);
  assert.deepEqual(m.point_mm, [5, 3, 0]);
  const [a, b] = m.extent_mm.corners_mm;
  assert.deepEqual([Math.min(a[0], b[0]), Math.max(a[0], b[0])], [0, 10]);
  assert.deepEqual([Math.min(a[1], b[1]), Math.max(a[1], b[1])], [0, 6]);
});

test('handles made from a mark give the same mark back', () => {
  for (const tool of ['point', 'ellipse', 'rectangle']) {
    const mark = tool === 'point'
      ? { id: 'x', tool, sop_instance_uid: '1', point_mm: [3, 4, 5], rating: 2 }
      : { id: 'x', tool, sop_instance_uid: '1', point_mm: [5, 3, 7], rating: 2, extent_mm: { corners_mm: [[0, 0, 7], [10, 6, 7]] } };
    const back = markFromHandles(tool, handlesFromMark(mark, ROW, COL), { id: 'x', sopInstanceUID: '1', rating: 2 });
    assert.deepEqual(back.point_mm, mark.point_mm, tool);
    if (mark.extent_mm) assert.deepEqual(back.extent_mm, mark.extent_mm, tool);
  }
});

test('an unknown tool is refused', () => {
  assert.throws(() => markFromHandles('lasso', [[0, 0, 0]], meta), /unknown mark tool/);
});

test('slice marks toggle per slice and label', () => {
  let s = toggleSliceMark([], '1.1', 'ich');
  s = toggleSliceMark(s, '1.1', 'sdh');
  assert.equal(s.length, 2);
  s = toggleSliceMark(s, '1.1', 'ich');
  assert.deepEqual(s, [{ sop_instance_uid: '1.1', label: 'sdh' }]);
});

test('the answer keeps only the contract fields', () => {
  const v = answerValue(
    [{ id: 'a', tool: 'point', sop_instance_uid: '1', point_mm: [0, 0, 0], rating: 3, annotation: {} }],
    [{ sop_instance_uid: '1', label: 'ich', extra: 1 }],
    { file: 'f', sha256: 'h', voxels: 3, url: '/x' },
  );
  assert.deepEqual(v, {
    marks: [{ id: 'a', tool: 'point', sop_instance_uid: '1', point_mm: [0, 0, 0], rating: 3 }],
    slice_marks: [{ sop_instance_uid: '1', label: 'ich' }],
    segmentation: { file: 'f', sha256: 'h', voxels: 3 },
  });
  assert.equal(answerValue([], [], null).segmentation, null);
});

test('keys select only the tools the question allows', () => {
  assert.equal(toolForKey('P', ['point']), 'point');
  assert.equal(toolForKey('e', ['point']), undefined);
  assert.equal(toolForKey('t', ['brush']), 'threshold');
  assert.equal(toolForKey('Escape', []), null);
  assert.equal(toolForKey('z', ['point']), undefined);
});

test('the default rating is the middle of the scale', () => {
  assert.equal(defaultRating({ rating_min: 1, rating_max: 5 }), 3);
  assert.equal(defaultRating({ rating_min: 0, rating_max: 100 }), 50);
  assert.equal(defaultRating({ rating_min: 1, rating_max: 4 }), 3);
});

test('labelmap slices pack into one binary mask', () => {
  const { bytes, voxels } = packMask([new Uint8Array([0, 2, 0, 0]), null, new Uint16Array([1, 1, 0, 0])], 4);
  assert.deepEqual([...bytes], [0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0]);
  assert.equal(voxels, 3);
});

test('marksConfig fills the server defaults, the threshold fill window included', () => {
  const config = marksConfig({ config: { max_marks: 3, threshold_hu_low: 35 } });
  assert.equal(config.max_marks, 3);
  assert.equal(config.threshold_hu_low, 35);
  assert.equal(config.threshold_hu_high, 90);
  assert.deepEqual(marksConfig({}).tools, ['point', 'ellipse', 'rectangle', 'slice', 'brush']);
});
