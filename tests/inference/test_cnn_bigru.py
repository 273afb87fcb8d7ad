"""``ich_subtypes_cnn_bigru`` (seed 004): held-out quality, outputs, geometry, Grad-CAM, CLI.

Held-out phantoms are case seeds >= 100000 (training used 0..N-1), matrix 128, thick.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage

from inference.geometry import Geometry, Grid
from inference.metrics import roc_auc
from inference.registry import get_model
from inference.zoo.cnn_bigru.data import HELD_OUT_SEED, LABELS, NORMAL_FRACTION
from inference.zoo.cnn_bigru.plugin import CnnBiGRU
from phantoms.subtype_case import make_subtype_case
from phantoms.subtype_dataset import plan_cases
from phantoms.subtype_io import write_subtype_case

N_HELD_OUT = 12
OPTS = {"threads": 1, "device": "cpu"}


@pytest.fixture(scope="module")
def model() -> CnnBiGRU:
    plugin = get_model("ich_subtypes_cnn_bigru")
    assert isinstance(plugin, CnnBiGRU)
    return plugin


@pytest.fixture(scope="module")
def held_out():
    plans = plan_cases(N_HELD_OUT, HELD_OUT_SEED, NORMAL_FRACTION)
    return [
        make_subtype_case(HELD_OUT_SEED + i, s, location=loc, matrix=128)
        for i, (s, loc) in enumerate(plans)
    ]


@pytest.fixture(scope="module")
def predictions(model, held_out):
    opts = {**OPTS, "explain": ("gradcam",)}
    return [
        model.predict(c.to_sitk(), meta={"SliceThickness": str(c.slice_thickness)}, options=opts)
        for c in held_out
    ]


def test_held_out_quality(held_out, predictions):
    """Thresholds from the figures measured on these 12 scans (8 with ICH), with margin:
    any-ICH scan AUC >= 0.7 (measured 0.81; 0.86 on the card's 40 scans: below the 0.9
    aimed for), slice AUC >= 0.85 (measured 0.90), the subtypes' slice AUCs averaged over
    the labels present >= 0.75 (measured 0.85). Chance is 0.5 for each."""
    y_scan = np.array([[int(c.ich_present)] for c in held_out])[:, 0]
    p_scan = np.array([p.probabilities["any"] for p in predictions])
    assert 0 < y_scan.sum() < len(y_scan)
    assert roc_auc(y_scan, p_scan) >= 0.7
    y_slice = np.concatenate([[r["any"] for r in c.slice_labels()] for c in held_out])
    p_slice = np.concatenate([p.slice_probabilities["any"] for p in predictions])
    assert roc_auc(y_slice, p_slice) >= 0.85
    sub_aucs = []
    for name in LABELS[1:]:
        y = np.concatenate([[r[name] for r in c.slice_labels()] for c in held_out])
        p = np.concatenate([pr.slice_probabilities[name] for pr in predictions])
        if 0 < y.sum() < len(y):
            sub_aucs.append(roc_auc(y, p))
    assert len(sub_aucs) >= 3 and float(np.mean(sub_aucs)) >= 0.75


def test_outputs_follow_the_contract(model, held_out, predictions):
    case, pred = held_out[0], predictions[0]
    n = case.n_slices
    assert set(pred.probabilities) == set(LABELS)
    for name in LABELS:
        sp = pred.slice_probabilities[name]
        assert len(sp) == n and all(0.0 <= v <= 1.0 for v in sp)
        assert pred.probabilities[name] == pytest.approx(max(sp))  # max over slices
        assert pred.decisions["default"][name] == int(pred.probabilities[name] >= 0.5)
        hm = pred.heatmap("gradcam", name)
        assert hm.array.dtype == np.float16 and hm.array.shape == case.volume_hu.shape
        assert float(hm.array.min()) >= 0.0 and float(hm.array.max()) <= 1.0
        assert hm.params["scaling"] == "case" and hm.params["layer"] == "net.class_layers.relu"
    assert pred.grid.shape == case.volume_hu.shape
    assert pred.provenance["slices"]["thickness_mm"] == case.slice_thickness
    glob = model.predict(
        case.to_sitk(),
        options={
            **OPTS,
            "explain": ("gradcam",),
            "explain_labels": ("any",),
            "explainer_params": {"gradcam": {"scaling": "global"}},
        },
    )
    assert list(glob.heatmaps) == ["gradcam_any"]
    fixed = model.manifest()["explainers"]["gradcam"]["defaults"]["global_scale"]["any"]
    assert glob.heatmaps["gradcam_any"].params["scale"] == pytest.approx(fixed)


def test_slice_order_is_geometric(model, held_out):
    """The same scan stored with its slice axis reversed (direction z flipped, origin at the
    top slice) is the same anatomy: per-slice outputs come back reversed, scan outputs equal."""
    case = held_out[1]
    img = case.to_sitk()
    arr = sitk.GetArrayFromImage(img)[::-1].copy()
    g = Grid.from_sitk(img)
    top = g.index_to_physical((arr.shape[0] - 1, 0, 0))
    d = np.asarray(g.geometry.direction).reshape(3, 3).copy()
    d[:, 2] *= -1
    flipped = Grid(arr.shape, Geometry(g.geometry.spacing, tuple(top), tuple(d.ravel()))).image(arr)
    a = model.predict(img, options=OPTS)
    b = model.predict(flipped, options=OPTS)
    for name in LABELS:
        np.testing.assert_allclose(
            a.slice_probabilities[name], b.slice_probabilities[name][::-1], atol=1e-5
        )


def test_gradcam_lands_on_the_haemorrhage(held_out, predictions):
    """Share of the any-ICH map's mass within 2 voxels of the haemorrhage (in-plane), on
    the positive slices of held-out ICH scans, over the region's share of those slices'
    voxels (1 = a map that ignores the lesion): median 1.74 measured (per scan 1.0-2.35),
    >= 1.3 required. Coarse, as the seed says of its maps: the CNN's last stage is 4x4."""
    ratios = []
    for case, pred in zip(held_out, predictions):
        if not case.ich_present:
            continue
        lesion = case.label_map > 0
        on = lesion.any(axis=(1, 2))
        near = np.stack([ndimage.binary_dilation(s, iterations=2) for s in lesion])[on]
        cam = pred.heatmap("gradcam", "any").array.astype(np.float32)[on]
        if cam.sum() <= 0:
            ratios.append(0.0)
            continue
        ratios.append(float(cam[near].sum() / cam.sum()) / float(near.mean()))
    assert len(ratios) >= 4
    assert float(np.median(ratios)) >= 1.3


def test_cli_predict_writes_result_and_heatmaps(tmp_path: Path, held_out):
    case = held_out[2]
    info = write_subtype_case(case, tmp_path / "dicom")
    out = tmp_path / "out"
    cmd = [
        sys.executable, "-m", "inference", "predict", "--model", "ich_subtypes_cnn_bigru",
        "--input", info["path"], "--out", str(out), "--explain", "gradcam", "--threads", "1",
        "--device", "cpu",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "result.json").read_text())
    for key in ("probabilities", "decisions", "slice_probabilities", "provenance"):
        assert key in result
    assert set(result["probabilities"]) == set(LABELS)
    assert all(len(v) == case.n_slices for v in result["slice_probabilities"].values())
    assert result["decisions"]["default"]["any"] in (0, 1)
    assert result["provenance"]["slices"]["thickness_mm"] == pytest.approx(case.slice_thickness)
    for name in LABELS:
        img = sitk.ReadImage(str(out / f"heatmap_gradcam_{name}.nii.gz"))
        assert img.GetSize() == tuple(reversed(case.volume_hu.shape))
    assert not (out / "heatmap_gradcam.nii.gz").exists()  # multi-label: per-label names only
    assert math.isfinite(result["probabilities"]["any"])


def test_bad_input_and_options_are_refused(model):
    with pytest.raises(ValueError, match="3D"):
        model.predict(sitk.Image(16, 16, sitk.sitkFloat32), options=OPTS)
    vol = np.zeros((4, 32, 32), np.float32)
    img = Grid(vol.shape, Geometry((1.0, 1.0, 5.0))).image(vol)
    with pytest.raises(ValueError, match="scaling"):
        model.predict(
            img,
            options={
                **OPTS,
                "explain": ("gradcam",),
                "explainer_params": {"gradcam": {"scaling": "x"}},
            },
        )
    with pytest.raises(ValueError, match="SliceThickness"):
        model.predict(img, meta={"SliceThickness": "thick"}, options=OPTS)


def test_training_is_deterministic():
    """Two runs of the training stages with the same seed give bit-identical weights (the
    shipped bundle's sha256 is reproducible); a different seed gives different weights."""
    import torch

    from inference.zoo.cnn_bigru.data import scans
    from inference.zoo.cnn_bigru.network import MemberConfig
    from inference.zoo.cnn_bigru.train import TrainConfig, train_member
    from inference.zoo.slices import SliceConfig

    cfg = SliceConfig()
    data = scans(3, 0, cfg)

    def weights(seed: int) -> dict[str, torch.Tensor]:
        tc = TrainConfig(n_cases=3, seed=seed, cnn_epochs=1, seq_epochs=2, threads=1)
        torch.manual_seed(seed)
        return train_member(MemberConfig(), data, cfg, tc, lambda _: None).state_dict()

    a, b, c = weights(0), weights(0), weights(1)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)
