// Unit tests for the DOM-free parts of the viewer: cd frontend && node --test test/
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sortInstances } from '../src/sort.js';
import { maskSegments, normaliseOverlay } from '../src/overlaydata.js';
import { buildLut, colorbarLabels, normaliser } from '../src/colormaps.js';
import { presetForRange, PRESETS, resolvePreset, voiRangeFor } from '../src/presets.js';

function inst(sop, z, num, iop = [1, 0, 0, 0, 1, 0]) {
  const i = { '00080018': { vr: 'UI', Value: [sop] } };
  if (z !== null) i['00200032'] = { vr: 'DS', Value: [-120, -120, z] };
  if (num !== null) i['00200013'] = { vr: 'IS', Value: [num] };
  if (iop) i['00200037'] = { vr: 'DS', Value: iop };
  return i;
}

test('sorts by position along the normal, not by InstanceNumber or file order', () => {
  const list = [inst('c', 10, 1), inst('a', -10, 3), inst('b', 0, 2)];
  const s = sortInstances(list);
  assert.deepEqual(s.map((x) => x.sopInstanceUID), ['a', 'b', 'c']);
  assert.deepEqual(s.map((x) => x.position), [-10, 0, 10]);
  assert.ok(s.every((x) => x.frame === 1));
});

test('a normal pointing down is flipped so index 0 stays the most inferior slice', () => {
  const iop = [1, 0, 0, 0, -1, 0]; // row x col = (0,0,-1)
  const s = sortInstances([inst('top', 50, 1, iop), inst('bottom', -50, 2, iop)]);
  assert.deepEqual(s.map((x) => x.sopInstanceUID), ['bottom', 'top']);
});

test('falls back to InstanceNumber without positions', () => {
  const s = sortInstances([inst('x', null, 2), inst('y', null, 1)]);
  assert.deepEqual(s.map((x) => x.sopInstanceUID), ['y', 'x']);
  assert.equal(s[0].position, null);
});

test('multi-frame instances expand to one entry per frame', () => {
  const i = inst('mf', 0, 1);
  i['00280008'] = { vr: 'IS', Value: [3] };
  assert.deepEqual(sortInstances([i]).map((x) => x.frame), [1, 2, 3]);
});

test('empty metadata is an error', () => {
  assert.throws(() => sortInstances([]), /empty/);
});

test('normaliseOverlay checks shape, size and frame count', () => {
  const desc = { method: 'gradcampp', signed: false, shape: [2, 3, 4], range: [0, 1] };
  const ok = normaliseOverlay({ descriptor: desc, data: new Uint8Array(24) }, 2);
  assert.deepEqual(ok.descriptor.shape, [2, 3, 4]);
  assert.equal(normaliseOverlay({ ...desc, data: new ArrayBuffer(24) }, 2).data.length, 24);
  assert.throws(() => normaliseOverlay({ ...desc, data: new Uint8Array(23) }, 2), /needs 24/);
  assert.throws(() => normaliseOverlay({ ...desc, data: new Uint8Array(24) }, 5), /5 slices/);
  assert.throws(() => normaliseOverlay({ ...desc, data: new Float32Array(24) }, 2), /Uint8Array/);
  assert.throws(() => normaliseOverlay({ ...desc, range: [1, 1], data: new Uint8Array(24) }, 2), /range/);
  assert.throws(() => normaliseOverlay({ ...desc, method: '', data: new Uint8Array(24) }, 2), /method/);
  const m = normaliseOverlay({ shape: [1, 2, 2], data: new Uint8Array(4) }, 1, { mask: true });
  assert.deepEqual(m.descriptor.range, [0, 1]);
});

test('maskSegments: boundary of a single pixel and of a 2x2 block', () => {
  assert.equal(maskSegments(new Uint8Array([0, 0, 0, 1]), 0, 2, 2).length / 4, 4);
  const block = maskSegments(new Uint8Array([1, 1, 1, 1]), 0, 2, 2);
  assert.equal(block.length / 4, 4); // merged into 4 edges of length 2
  for (let k = 0; k < block.length; k += 4) {
    assert.equal(Math.abs(block[k + 2] - block[k]) + Math.abs(block[k + 3] - block[k + 1]), 2);
  }
  assert.equal(maskSegments(new Uint8Array(4), 0, 2, 2).length, 0);
});

test('unsigned LUT: transparent at 0, opaque at the top', () => {
  const lut = buildLut({ signed: false, range: [0, 1] });
  assert.equal(lut[3], 0);
  assert.equal(lut[255 * 4 + 3], 255);
});

test('signed LUT: transparent at zero, red positive, blue negative', () => {
  const desc = { signed: true, range: [-2, 2] };
  const lut = buildLut(desc);
  const norm = normaliser(desc);
  let zero = 0;
  for (let v = 0; v < 256; v++) if (Math.abs(norm(v)) < Math.abs(norm(zero))) zero = v;
  assert.equal(lut[zero * 4 + 3], 0);
  assert.ok(lut[255 * 4] > lut[255 * 4 + 2], 'positive end is red');
  assert.ok(lut[2] > lut[0], 'negative end is blue');
  assert.ok(lut[3] > 200 && lut[255 * 4 + 3] > 200);
  // Asymmetric range keeps zero at zero and a shared scale.
  const asym = normaliser({ signed: true, range: [-0.5, 1] });
  assert.equal(asym(0), -0.5);
  assert.equal(asym(255), 1);
  assert.deepEqual(colorbarLabels({ signed: true, range: [-0.5, 1] }).map((l) => l.text), ['-1', '0', '1']);
});

test('presets and aliases', () => {
  assert.equal(resolvePreset('0-200 HU'), 'hu0_200');
  assert.equal(resolvePreset('seed-000'), 'hu0_200');
  assert.equal(resolvePreset('Brain'), 'brain');
  assert.equal(resolvePreset('lung'), null);
  assert.deepEqual(voiRangeFor(PRESETS.hu0_200), { lower: 0, upper: 200 });
  assert.deepEqual(voiRangeFor(PRESETS.bone), { lower: -800, upper: 2000 });
  assert.equal(presetForRange({ lower: 0, upper: 80 }), 'brain');
  assert.equal(presetForRange({ lower: -20, upper: 180 }), 'subdural');
});
