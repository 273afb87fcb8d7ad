"""``ich_location_dtvit`` (seed 003): held-out quality, location, attention rollout, CLI.

Held-out phantoms are case seeds >= 100000 (training used 0..N-1), matrix 128, thick series;
the test's seeds (100200..) are also apart from the model card's (100000..100029).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage

from inference.metrics import roc_auc
from inference.registry import get_model
from inference.zoo.dtvit.data import training_plan
from inference.zoo.dtvit.network import LOCATIONS
from inference.zoo.dtvit.plugin import DualTaskViT
from phantoms.subtype_case import make_subtype_case
from phantoms.subtype_io import write_subtype_case

FIRST = 100_200
OPTS = {"threads": 1, "device": "cpu", "explain": ("attention",)}
LABELS = ("ich", *LOCATIONS)
# Thresholds: measured on exactly these scans with the shipped weights (and on the model
# card's 30 other held-out scans), then lowered by a margin; each is well above chance.
SCAN_AUC_MIN = 0.85  # measured 1.0 here, 0.873 on the card's 30 scans; chance 0.5
SLICE_AUC_MIN = 0.85  # measured 0.940 here, 0.927 on the card's scans; chance 0.5
LOCATION_ACC_MIN = 5 / 9  # measured 6/9; chance 3/9
ROLLOUT_RATIO_MIN = 1.4  # measured median 1.81 (range 1.13-2.38); uniform = 1.0


@pytest.fixture(scope="module")
def model() -> DualTaskViT:
    plugin = get_model("ich_location_dtvit")
    assert isinstance(plugin, DualTaskViT)
    return plugin


@pytest.fixture(scope="module")
def held_out():
    """12 scans: normal heads and intraparenchymal haematomas (the training plan's recipe)."""
    return [p.render(128) for p in training_plan(12, seed=7, first_case=FIRST)]


@pytest.fixture(scope="module")
def iph_cases():
    """9 scans with one intraparenchymal haematoma each, three per location class."""
    return [
        make_subtype_case(FIRST + 50 + i, ("iph",), location=LOCATIONS[i % 3], matrix=128)
        for i in range(9)
    ]


@pytest.fixture(scope="module")
def predictions(model, held_out):
    return [model.predict(c.to_sitk(), options=OPTS) for c in held_out]


@pytest.fixture(scope="module")
def iph_predictions(model, iph_cases):
    return [model.predict(c.to_sitk(), options=OPTS) for c in iph_cases]


def test_held_out_ich_scan_and_slice_auc(held_out, predictions):
    """A model that learnt nothing scores 0.5 on both (see the thresholds above)."""
    truth = [int(c.ich_present) for c in held_out]
    assert 0 < sum(truth) < len(truth)
    scan_auc = roc_auc(truth, [p.probabilities["ich"] for p in predictions])
    y = np.concatenate([[s["any"] for s in c.slice_labels()] for c in held_out])
    p = np.concatenate([p.slice_probabilities["ich"] for p in predictions])
    slice_auc = roc_auc(y, p)
    assert scan_auc >= SCAN_AUC_MIN, scan_auc
    assert slice_auc >= SLICE_AUC_MIN, slice_auc


def test_location_accuracy_well_above_chance(iph_cases, iph_predictions):
    """Scan-level location (argmax of the aggregated distribution) on 9 held-out IPH
    scans; chance is 1/3 (3 of 9)."""
    right = [
        max(p.probabilities["location"], key=p.probabilities["location"].get) == c.location
        for c, p in zip(iph_cases, iph_predictions, strict=True)
    ]
    assert np.mean(right) >= LOCATION_ACC_MIN, right


def test_rollout_mass_on_the_haematoma(iph_cases, iph_predictions):
    """On the haematoma's slices, the share of rollout mass within the haematoma dilated by
    2 voxels in-plane, divided by that region's share of the head's area: 1 = no better
    than uniform over the head."""
    ratios = []
    for case, pred in zip(iph_cases, iph_predictions, strict=True):
        heat = pred.heatmap("attention", "ich").array.astype(np.float64)
        mask = case.mask("iph") > 0
        ks = np.flatnonzero(mask.any(axis=(1, 2)))
        region = ndimage.binary_dilation(mask[ks], np.ones((1, 5, 5), bool))
        head = case.volume_hu[ks] > -300
        share_mass = heat[ks][region & head].sum() / max(heat[ks][head].sum(), 1e-12)
        share_area = np.count_nonzero(region & head) / np.count_nonzero(head)
        ratios.append(share_mass / share_area)
    assert float(np.median(ratios)) >= ROLLOUT_RATIO_MIN, ratios


def test_outputs_follow_the_contract(held_out, predictions):
    case, pred = held_out[0], predictions[0]
    assert set(pred.probabilities) == {"ich", "location"}
    dist = pred.probabilities["location"]
    assert isinstance(dist, dict) and set(dist) == set(LOCATIONS)
    assert abs(sum(dist.values()) - 1.0) < 1e-6
    assert set(pred.slice_probabilities) == set(LABELS)
    assert all(len(v) == case.n_slices for v in pred.slice_probabilities.values())
    # P(ICH) of the scan is the max over its slices
    assert pred.probabilities["ich"] == pytest.approx(max(pred.slice_probabilities["ich"]))
    decision = pred.decisions["default"]
    assert decision["ich"] == int(pred.probabilities["ich"] >= 0.5)
    assert sum(decision[c] for c in LOCATIONS) == 1
    assert decision[max(dist, key=dist.get)] == 1
    assert set(pred.heatmaps) == {f"attention_{n}" for n in LABELS}
    heat = pred.heatmap("attention", "deep")
    assert heat.array.dtype == np.float16 and heat.array.shape == case.volume_hu.shape
    assert float(heat.array.min()) >= 0.0 and float(heat.array.max()) == pytest.approx(1.0)


def test_slice_order_follows_geometry_not_the_array(model, held_out, predictions):
    """The same scan stored with its slices reversed (z axis flipped, origin moved): slice
    probabilities come back reversed, the scan probability is unchanged."""
    case, pred = held_out[1], predictions[1]
    image = case.to_sitk()
    d = np.asarray(image.GetDirection()).reshape(3, 3).copy()
    d[:, 2] *= -1
    flipped = sitk.GetImageFromArray(sitk.GetArrayFromImage(image)[::-1].copy())
    flipped.SetSpacing(image.GetSpacing())
    flipped.SetDirection(tuple(d.ravel()))
    flipped.SetOrigin(image.TransformIndexToPhysicalPoint((0, 0, case.n_slices - 1)))
    out = model.predict(flipped, options={"threads": 1, "device": "cpu"})
    np.testing.assert_allclose(
        out.slice_probabilities["ich"][::-1], pred.slice_probabilities["ich"], atol=1e-4
    )
    assert out.probabilities["ich"] == pytest.approx(pred.probabilities["ich"], abs=1e-4)


def test_cli_predict_writes_result_and_heatmaps(tmp_path: Path, iph_cases):
    info = write_subtype_case(iph_cases[0], tmp_path / "dicom")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "inference", "predict", "--model", "ich_location_dtvit"]
    cmd += ["--input", info["path"], "--out", str(out), "--explain", "attention"]
    cmd += ["--threads", "1", "--device", "cpu"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads((out / "result.json").read_text())
    for key in ("probabilities", "decisions", "slice_probabilities", "provenance"):
        assert key in result
    assert set(result["probabilities"]["location"]) == set(LOCATIONS)
    assert len(result["slice_probabilities"]["ich"]) == iph_cases[0].n_slices
    for name in LABELS:
        img = sitk.ReadImage(str(out / f"heatmap_attention_{name}.nii.gz"))
        assert img.GetSize() == tuple(reversed(iph_cases[0].volume_hu.shape))
