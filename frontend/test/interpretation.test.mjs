// Unit tests for the seed-001 interpretation panels: nomogram layout, feature bars, clinical text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nomogramLayout, tickText } from '../src/nomogram.js';
import { clinicalText, featureBars, featureSource } from '../src/features.js';

const NOMOGRAM = {
  variables: [
    { name: 'dlr_signature', display: 'DLR signature', points: 82, value: 0.82 },
    { name: 'seizure_at_admission', display: 'Seizure', points: 30.6, value: true },
  ],
  total_points: 112.6,
  probability: 0.947,
  axes: [
    { variable: 'dlr_signature', ticks: [0, 0.5, 1].map((v) => ({ value: v, points: 100 * v })) },
    { variable: 'seizure_at_admission', ticks: [{ value: 0, points: 0 }, { value: 1, points: 30.6 }] },
  ],
  probability_axis: [{ total_points: 50, probability: 0.3 }, { total_points: 100, probability: 0.9 }],
  total_points_axis: [0, 20, 40, 60, 80, 100, 120],
};

test('the case is marked at its points on each axis and at its total on the total axis', () => {
  const L = nomogramLayout(NOMOGRAM, { width: 320, pad: 10 });
  assert.deepEqual(L.rows.map((r) => r.kind), ['points', 'variable', 'variable', 'total', 'probability']);
  assert.equal(L.maxPoints, 100);
  assert.equal(L.maxTotal, 130.6); // the largest reachable total: 100 + 30.6
  const [points, dlr, seizure, total, probability] = L.rows;
  const px = (p) => 10 + (300 * p) / 100;
  const tx = (t) => 10 + (300 * t) / 130.6;
  assert.equal(points.ticks[0].x, 10);
  assert.equal(points.ticks.at(-1).x, 310);
  assert.ok(Math.abs(dlr.mark.x - px(82)) < 1e-9);
  assert.ok(Math.abs(seizure.mark.x - px(30.6)) < 1e-9);
  assert.deepEqual(seizure.ticks.map((t) => t.text), ['no', 'yes']); // a yes/no variable's 0/1
  assert.ok(Math.abs(total.mark.x - tx(112.6)) < 1e-9);
  assert.equal(total.ticks.length, 7);
  assert.equal(probability.mark.x, total.mark.x); // read straight down
  assert.equal(probability.mark.text, '94.7%');
  assert.ok(Math.abs(probability.ticks[1].x - tx(100)) < 1e-9);
  assert.ok(L.height > probability.y);
});

test('without a probability axis the nomogram ends at the total points', () => {
  const L = nomogramLayout({ ...NOMOGRAM, probability_axis: [], total_points_axis: [] });
  assert.equal(L.rows.at(-1).kind, 'total');
  assert.ok(L.rows.at(-1).ticks.length >= 2);
});

test('a nomogram with no variables or a non-number is refused', () => {
  assert.throws(() => nomogramLayout({ variables: [] }), /no variables/);
  assert.throws(() => nomogramLayout({ ...NOMOGRAM, total_points: 'x' }), /total_points/);
  assert.equal(tickText(0.123456), '0.123');
  assert.equal(tickText(false), 'no');
});

test('feature bars are ordered by absolute importance and scaled to the largest', () => {
  const bars = featureBars([
    { name: 'original_shape_Sphericity', value: -1.1, importance: -0.2 },
    { name: 'DL_feature_0412', value: 0.3, importance: 0.4 },
    { name: 'wavelet-LHL_glszm_SmallAreaEmphasis', value: 0.6, importance: 0.1 },
  ]);
  assert.deepEqual(bars.map((b) => b.name), ['DL_feature_0412', 'original_shape_Sphericity', 'wavelet-LHL_glszm_SmallAreaEmphasis']);
  assert.deepEqual(bars.map((b) => b.fraction), [1, 0.5, 0.25]);
  assert.deepEqual(bars.map((b) => b.sign), [1, -1, 1]);
  assert.deepEqual(bars.map((b) => b.source), ['deep', 'radiomics', 'radiomics']);
  assert.equal(featureBars([{ name: 'a', importance: 1 }, { name: 'b', importance: 2 }], 1).length, 1);
  assert.throws(() => featureBars([{ name: 'a' }]), /features\[0\]/);
  assert.equal(featureSource('dl-3'), 'deep');
});

test('clinical values read as yes/no, numbers with units, or not recorded', () => {
  assert.equal(clinicalText({ value: true }), 'yes');
  assert.equal(clinicalText({ value: false }), 'no');
  assert.equal(clinicalText({ value: 34, unit: 'years' }), '34 years');
  assert.equal(clinicalText({ value: 5.25, unit: 'h' }), '5.25 h');
  assert.equal(clinicalText({ value: null }), 'not recorded');
  assert.equal(clinicalText({ value: 'F' }), 'F');
});
