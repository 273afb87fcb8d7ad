"""Shared fixtures for the framework-free ``inference`` package (run with ``-p no:django``)."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see inference/__main__.py; before torch

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def cvst_case():
    from phantoms import make_case

    return make_case(424242, "cvst_ich", matrix=128)


@pytest.fixture(scope="session")
def sich_case():
    from phantoms import make_case

    return make_case(424243, "sich", matrix=128)


@pytest.fixture(scope="session")
def demo_model():
    from inference.registry import get_model

    model = get_model("cvst_ich_demo")
    model.load()
    return model


@pytest.fixture
def demo_bundle_copy(tmp_path) -> Path:
    """A writable copy of the shipped bundle, for corruption tests."""
    from inference.builtin import DEMO_DIR

    dst = tmp_path / "bundle"
    shutil.copytree(DEMO_DIR, dst)
    return dst


def write_tiny_bundle(path: Path, features: int = 2) -> Path:
    """A bundle with random weights of a tiny network (fast; for contract tests)."""
    from safetensors.torch import save_file

    from inference.builtin import DEMO_DIR
    from inference.manifest import sha256_file
    from inference.networks.classifier import build_classifier, build_segmenter

    manifest = json.loads((DEMO_DIR / "manifest.json").read_text())
    arch = manifest["architecture"]["networks"]
    torch.manual_seed(0)
    weights = []
    for role, builder in (("segmentation", build_segmenter), ("classifier", build_classifier)):
        arch[role]["features"] = features
        net = builder(arch[role])
        f = path / f"{role}.safetensors"
        path.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(f))
        weights.append(
            {
                "role": role,
                "file": f.name,
                "format": "safetensors",
                "sha256": sha256_file(f),
                "bytes": f.stat().st_size,
            }
        )
    manifest["id"] = "tiny_random"
    manifest["weights"] = weights
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return path


def patch_support(pred) -> np.ndarray:
    """Footprint of the classifier's ROI patch on the input grid (where maps are defined)."""
    from inference.geometry import Geometry, Grid, to_grid

    roi = pred.roi
    patch = Grid(
        tuple(roi["patch_shape"]),
        Geometry(roi["model_grid"]["spacing"], roi["patch_origin"], pred.grid.geometry.direction),
    )
    ones = np.ones(patch.shape, np.float32)
    return to_grid(ones, patch, pred.grid, "linear", 0.0) > 0.5


def enrichment(
    heat: np.ndarray, support: np.ndarray, truth_mask: np.ndarray, spacing, margin_mm: float = 10.0
) -> tuple[float, float]:
    """(mass fraction, volume fraction) of the dilated hematoma box within ``support``.

    A map spread evenly over its patch gives mass ~ volume whatever the patch position; a
    map concentrated near the hematoma gives mass >> volume.
    """
    idx = np.argwhere(truth_mask > 0)
    lo, hi = idx.min(0), idx.max(0) + 1
    m = np.ceil(margin_mm / np.asarray(spacing)[::-1]).astype(int)  # (z, y, x) voxels
    lo, hi = np.maximum(lo - m, 0), np.minimum(hi + m, heat.shape)
    box = np.zeros(heat.shape, bool)
    box[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]] = True
    a = np.abs(heat.astype(np.float64))
    mass = a[box & support].sum() / a[support].sum()
    vol = (box & support).sum() / support.sum()
    return float(mass), float(vol)
