// Unit tests for the model-output parts: slice strip mapping, per-label rows, colour bar words.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sortInstances } from '../src/sort.js';
import { describeSlice, mapStrip, peakSlice, sliceAt, sliceX } from '../src/stripdata.js';
import { labelColor, PALETTE, probabilityRows } from '../src/labels.js';
import { colorbarLabels, colorbarText, SIGNED_LABELS } from '../src/colormaps.js';
import { normaliseOverlay } from '../src/overlaydata.js';

function inst(sop, z, num) {
  return {
    '00080018': { vr: 'UI', Value: [sop] },
    '00200032': { vr: 'DS', Value: [0, 0, z] },
    '00200013': { vr: 'IS', Value: [num] },
    '00200037': { vr: 'DS', Value: [1, 0, 0, 0, 1, 0] },
  };
}

const STRIP = {
  labels: ['any', 'iph'],
  sop_instance_uids: ['u0', 'u1', 'u2', 'u3'],
  values: { any: [0.1, 0.2, 0.9, 0.4], iph: [0, 0.05, 0.8, 0.3] },
};

test('strip values follow the viewer stack order, not the payload order', () => {
  // Files listed top first with InstanceNumber reversed: the viewer sorts them by position.
  const viewer = sortInstances([inst('u3', 30, 1), inst('u1', 10, 3), inst('u0', 0, 4), inst('u2', 20, 2)]);
  const uids = viewer.map((s) => s.sopInstanceUID);
  assert.deepEqual(uids, ['u0', 'u1', 'u2', 'u3']);
  // A payload listing the same slices in another order still lands on the right slices.
  const shuffled = {
    labels: ['any'],
    sop_instance_uids: ['u2', 'u0', 'u3', 'u1'],
    values: { any: [0.9, 0.1, 0.4, 0.2] },
  };
  const m = mapStrip(shuffled, uids);
  assert.deepEqual(Array.from(m.values.any), [0.1, 0.2, 0.9, 0.4]);
  assert.equal(m.matched, 4);
  assert.equal(peakSlice(m, 'any'), 2);
});

test('a viewer slice missing from the strip gets NaN; another series is refused', () => {
  const m = mapStrip(STRIP, ['u0', 'x', 'u2']);
  assert.equal(m.count, 3);
  assert.ok(Number.isNaN(m.values.iph[1]));
  assert.equal(m.values.iph[2], 0.8);
  assert.match(describeSlice(m, 1, { any: 'Any ICH' }), /^Slice 2 \/ 3: Any ICH –, iph –$/);
  assert.throws(() => mapStrip(STRIP, ['a', 'b']), /no slice of the series on screen/);
});

test('a malformed strip is refused with the problem named', () => {
  assert.throws(() => mapStrip({ ...STRIP, values: { any: [0.1], iph: STRIP.values.iph } }, ['u0']), /"any" has 1 values for 4 slices/);
  assert.throws(() => mapStrip({ ...STRIP, labels: ['sdh'] }, ['u0']), /no values for "sdh"/);
  assert.throws(() => mapStrip({ ...STRIP, sop_instance_uids: ['u0', 'u0', 'u1', 'u2'] }, ['u0']), /twice/);
  assert.throws(() => mapStrip({ ...STRIP, sop_instance_uids: [] }, ['u0']), /no sop_instance_uids/);
});

test('strip x <-> slice', () => {
  assert.equal(sliceAt(0, 400, 28), 0);
  assert.equal(sliceAt(399.9, 400, 28), 27);
  assert.equal(sliceAt(500, 400, 28), 27);
  assert.equal(sliceAt(-3, 400, 28), 0);
  for (let i = 0; i < 28; i++) assert.equal(sliceAt(sliceX(i, 400, 28), 400, 28), i);
});

test('per-label rows: binary/multi-label values with calls, a multi-class head as its classes', () => {
  const rows = probabilityRows({
    label_probabilities: [
      { label: 'any', display: 'Any ICH', value: 0.93 },
      { label: 'iph', display: 'Intraparenchymal', value: 0.12 },
      {
        label: 'location',
        display: 'Location',
        classes: [
          { label: 'deep', display: 'Deep', value: 0.2 },
          { label: 'lobar', display: 'Lobar', value: 0.7 },
          { label: 'subtentorial', display: 'Subtentorial', value: 0.1 },
        ],
      },
    ],
    label_decisions: { operating_point: 'default', values: { any: 1, iph: 0, lobar: 1, deep: 0 } },
  });
  assert.deepEqual(rows[0], { label: 'any', display: 'Any ICH', value: 0.93, decision: 1 });
  assert.equal(rows[1].decision, 0);
  assert.equal(rows[2].top, 'lobar');
  assert.deepEqual(rows[2].classes.map((c) => c.decision), [0, 1, null]);
  assert.throws(() => probabilityRows({ label_probabilities: [{ label: 'any', value: 1.2 }] }), /any: probability 1.2/);
  assert.deepEqual(probabilityRows({}), []);
});

test('label colours are the colour-blind-safe palette, distinct for six labels', () => {
  const six = [0, 1, 2, 3, 4, 5].map(labelColor);
  assert.equal(new Set(six).size, 6);
  assert.equal(labelColor(PALETTE.length), PALETTE[0]);
});

test('colour bar words come from the descriptor; seed 000 keeps its own', () => {
  // Seed 000 (no colorbar given): the signed labels of today.
  const seed000 = colorbarText({ method: 'ig', signed: true, range: [-2, 1] });
  assert.deepEqual(seed000.direction, { low: SIGNED_LABELS.negative, high: SIGNED_LABELS.positive });
  assert.equal(seed000.title, 'Integrated Gradients (signed)');
  assert.equal(seed000.scale, null);
  assert.equal(colorbarText({ method: 'gradcampp', signed: false, range: [0, 1] }).direction, null);
  // A multi-label model's map: the label's words and the scale from the payload.
  const d = normaliseOverlay(
    {
      method: 'gradcam',
      signed: false,
      shape: [1, 1, 2],
      range: [0, 1],
      label: 'sdh',
      display: 'Subdural',
      colorbar: { high: 'towards Subdural', low: '' },
      scale: { mode: 'global', range: [0, 3.5] },
      data: new Uint8Array(2),
    },
    1,
  ).descriptor;
  const t = colorbarText(d);
  assert.equal(t.title, 'Grad-CAM \u00b7 Subdural');
  assert.deepEqual(t.direction, { low: '', high: 'towards Subdural' });
  assert.equal(t.scale, 'fixed scale (all cases)');
  assert.deepEqual(colorbarLabels(d).map((l) => l.text), ['0', '3.5']); // the fixed scale's ends
  const perCase = { ...d, scale: { mode: 'case' } };
  assert.equal(colorbarText(perCase).scale, 'per-case scale');
  assert.deepEqual(colorbarLabels(perCase).map((l) => l.text), ['0', '1']); // no range: the data's
  const signed = colorbarText({ method: 'ig', signed: true, range: [-1, 1], colorbar: { high: 'towards IVH', low: 'against IVH' } });
  assert.deepEqual(signed.direction, { low: 'against IVH', high: 'towards IVH' });
  assert.throws(
    () => normaliseOverlay({ method: 'x', shape: [1, 1, 1], range: [0, 1], scale: { range: [2, 2] }, data: new Uint8Array(1) }, 1),
    /scale.range/,
  );
});
