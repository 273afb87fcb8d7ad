"""Explainers against models whose true attributions are known, plus pass counting."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from inference.explain.cbam import cbam_attention
from inference.explain.gradcampp import gradcampp
from inference.explain.ig import integrated_gradients
from inference.explain.occlusion import occlusion
from inference.explain.shap import expected_gradients
from inference.networks.classifier import CBAMClassifier
from inference.networks.unet import UNetConfig

SHAPE = (8, 16, 16)


class LinearCT(nn.Module):
    """logit = sum(w * ct) + 0.5 * sum(mask): IG and SHAP (black baseline) equal w * ct."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x):
        return (x[:, 0] * self.w).sum(dim=(1, 2, 3)) + 0.5 * x[:, 1].sum(dim=(1, 2, 3))


@pytest.fixture
def linear_setup():
    g = torch.Generator().manual_seed(0)
    w = torch.zeros(SHAPE)
    w[2:5, 4:9, 6:12] = 1.0  # a "lesion" region supporting the positive class
    w[6:8, 0:3, 0:3] = -2.0  # a region supporting the negative class
    x = torch.rand((1, 2, *SHAPE), generator=g)
    return LinearCT(w), x, w


def test_ig_exact_on_linear_model(linear_setup):
    model, x, w = linear_setup
    att = integrated_gradients(model, x, n_steps=4, internal_batch_size=3)
    raw = att.array * att.params["scale"]
    assert np.allclose(raw, (w * x[0, 0]).numpy(), atol=1e-5)
    assert att.signed and att.array.min() < 0 < att.array.max()  # sign kept
    assert abs(att.extras["convergence_delta"]) < 1e-4
    # 4 path points + 1 input + 1 baseline for the convergence delta; 4 backward
    assert att.forward_passes == 6 and att.backward_passes == 4
    assert all(p.requires_grad for p in model.parameters())  # weights unfrozen afterwards


def test_shap_black_background_exact_and_seeded(linear_setup):
    model, x, w = linear_setup
    att = expected_gradients(model, x, background=("black",), n_samples=5, batch_size=2)
    assert np.allclose(att.array * att.params["scale"], (w * x[0, 0]).numpy(), atol=1e-5)
    assert att.backward_passes == 5
    # with a random background, the estimate is seed-determined and sums to ~ f(x) - E f(b)
    a1 = expected_gradients(model, x, background=("black", "blur", "mean"), n_samples=6, seed=3)
    a2 = expected_gradients(model, x, background=("black", "blur", "mean"), n_samples=6, seed=3)
    a3 = expected_gradients(model, x, background=("black", "blur", "mean"), n_samples=6, seed=4)
    assert np.array_equal(a1.array, a2.array)
    assert not np.array_equal(a1.array, a3.array)


def test_occlusion_finds_supporting_region(linear_setup):
    model, x, w = linear_setup
    att = occlusion(
        model,
        x,
        window=(1, 1, 1),
        stride=(1, 1, 1),
        region="patch",
        batch_size=64,
        max_windows=10_000,
    )
    raw = att.array * att.params["scale"]
    # logit drop when one voxel is zeroed = w * x exactly
    assert np.allclose(raw, (w * x[0, 0]).numpy(), atol=1e-4)
    assert att.forward_passes == 1 + int(np.prod(SHAPE))
    # restricted to a box: nothing outside the box (+margin) is touched
    box = (np.array([2, 4, 6]), np.array([5, 9, 12]))
    att2 = occlusion(model, x, window=(2, 4, 4), stride=(2, 4, 4), bbox=box, margin=(0, 0, 0))
    assert np.all(att2.array[:2] == 0) and np.all(att2.array[:, :, :4] == 0)
    assert att2.array[3, 6, 8] > 0


def test_occlusion_caps_windows(linear_setup):
    model, x, _ = linear_setup
    att = occlusion(model, x, window=(1, 2, 2), stride=(1, 1, 1), region="patch", max_windows=50)
    assert att.params["n_windows"] <= 50 and att.forward_passes == att.params["n_windows"] + 1
    assert att.params["stride"] != [1, 1, 1]


@pytest.fixture
def tiny_classifier():
    torch.manual_seed(0)
    return CBAMClassifier(UNetConfig(in_channels=2, features=4, depth=4)).eval()


def test_gradcampp_partial_backward_and_range(tiny_classifier):
    x = torch.rand(1, 2, 8, 32, 32)
    att = gradcampp(tiny_classifier, x, layer="encoder.blocks.2", target_sign=1)
    assert att.array.shape == (8, 32, 32)
    assert att.array.min() >= 0 and att.array.max() <= 1
    assert att.forward_passes == 1 and att.backward_passes == 1
    assert att.params["layer_shape"] == [2, 8, 8]
    with pytest.raises(ValueError, match="not found"):
        gradcampp(tiny_classifier, x, layer="nope")


def test_cbam_maps_recorded_and_released(tiny_classifier):
    x = torch.rand(1, 2, 8, 32, 32)
    att = cbam_attention(tiny_classifier, x, blocks=(3, 4))
    assert att.array.shape == (8, 32, 32) and att.array.min() >= 0 and att.array.max() <= 1
    assert att.array.std() > 0
    assert all(m.last_spatial is None and not m.record for m in tiny_classifier.cbam_modules())
    with pytest.raises(ValueError, match="out of range"):
        cbam_attention(tiny_classifier, x, blocks=(5,))
