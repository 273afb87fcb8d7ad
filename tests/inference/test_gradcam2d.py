"""2D Grad-CAM: localisation on a network with a known answer, equality with MONAI's GradCAM."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.networks.nets import DenseNet
from monai.visualize import GradCAM
from scipy import ndimage
from torch import nn

from inference.explain.gradcam2d import gradcam2d, resolve_layer, scale_maps

BRIGHT = (slice(8, 18), slice(40, 54))  # off-centre and asymmetric: a swapped axis misses
DARK = (slice(42, 52), slice(6, 16))


class KnownAnswer(nn.Module):
    """Label 0 = "a bright blob is present", label 1 = "a dark blob is present".

    conv1 detects bright (channel 0) and dark (channel 1) blobs at stride 2 (so the map is
    upsampled), conv2 passes them on with a third channel that responds to the uniform
    texture everywhere; the head weighs the detectors against each other and gives the
    texture a small weight, so a wrong channel weighting spreads mass outside the blobs.
    The Grad-CAM layer is ``relu2``, the rectified output of the last convolution (as with
    MONAI's DenseNet ``class_layers.relu``): before the ReLU the detectors' gradients vanish
    off the blobs and the spatial mean weighs the texture most.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 3, 5, stride=2, padding=2)
        self.conv2 = nn.Conv2d(3, 3, 1)
        self.relu2 = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(3, 2)
        with torch.no_grad():
            k = torch.full((5, 5), 1 / 25)
            self.conv1.weight[:] = torch.stack([k, -k, torch.zeros(5, 5)])[:, None]
            nn.init.constant_(self.conv1.bias, 0.0).add_(torch.tensor([-0.3, -0.3, 0.1]))  # type: ignore[arg-type]
            self.conv2.weight[:] = torch.eye(3)[:, :, None, None]
            nn.init.zeros_(self.conv2.bias)  # type: ignore[arg-type]
            self.head.weight[:] = torch.tensor([[1.0, -0.5, 0.01], [-0.5, 1.0, 0.01]])
            self.head.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.relu2(self.conv2(torch.relu(self.conv1(x))))).flatten(1))


def _blobs(n: int = 3) -> torch.Tensor:
    rng = np.random.default_rng(1)
    x = rng.normal(0.0, 0.05, (n, 1, 64, 64)).astype(np.float32)
    x[(slice(None), 0, *BRIGHT)] += 1.0
    x[(slice(None), 0, *DARK)] -= 1.0
    return torch.from_numpy(x)


def _mass_in(region: tuple[slice, slice], maps: np.ndarray) -> float:
    """Share of the map's mass within 3 px of the region (the map's 5x5 stride-2 receptive
    field blurs edges by ~3 px)."""
    mask = np.zeros(maps.shape[1:], bool)
    mask[region] = True
    mask = ndimage.binary_dilation(mask, iterations=3)
    return float(maps[:, mask].sum() / maps.sum())


def test_map_mass_lies_in_the_region_the_answer_depends_on():
    """Each blob covers 3-4 % of the slice (8-10 % with the 3 px margin); a correct Grad-CAM
    puts >= 90 % of each label's mass there (measured: 95 % and 93 %, deterministic: fixed
    weights and noise). A uniform map gives ~10 %, a transposed map ~0 %, the same code on
    the pre-ReLU layer 49 % and 33 %."""
    model = KnownAnswer()
    result = gradcam2d(model, _blobs(), labels=[0, 1], layer="relu2")
    assert resolve_layer(model)[0] == "conv2"  # the default: the last Conv2d
    assert result.maps[0].shape == (3, 64, 64)
    assert _mass_in(BRIGHT, result.maps[0]) >= 0.9
    assert _mass_in(DARK, result.maps[1]) >= 0.9
    assert _mass_in(DARK, result.maps[0]) < 0.05
    assert (result.forward_passes, result.backward_passes) == (3, 6)
    np.testing.assert_allclose(result.logits, model(_blobs()).detach().numpy(), atol=1e-6)


def test_equals_monai_gradcam_on_the_same_layer():
    """Same layer, same slices: MONAI's naive GradCAM (one forward + backward per label,
    weight gradients included) and ours agree to float rounding (1e-5 relative)."""
    torch.manual_seed(0)
    net = DenseNet(
        spatial_dims=2,
        in_channels=3,
        out_channels=6,
        init_features=8,
        growth_rate=8,
        block_config=(2, 2, 2),
    ).eval()
    x = torch.rand(4, 3, 64, 64)
    ours = gradcam2d(net, x, labels=[2, 4], layer="class_layers.relu", batch_size=3)
    monai_cam = GradCAM(
        nn_module=net, target_layers="class_layers.relu", postprocessing=lambda m: m
    )
    for c in (2, 4):
        theirs = monai_cam(x=x, class_idx=c)[:, 0].detach().numpy()
        assert theirs.max() > 0
        np.testing.assert_allclose(ours.maps[c], theirs, rtol=1e-5, atol=1e-6 * theirs.max())


def test_batches_do_not_interact_and_the_model_is_restored():
    torch.manual_seed(0)
    net = DenseNet(
        spatial_dims=2,
        in_channels=3,
        out_channels=2,
        init_features=8,
        growth_rate=8,
        block_config=(2, 2),
    ).train()
    x = torch.rand(5, 3, 32, 32)
    whole = gradcam2d(net, x, labels=[1], layer="class_layers.relu")
    one_by_one = gradcam2d(net, x, labels=[1], layer="class_layers.relu", batch_size=1)
    np.testing.assert_allclose(whole.maps[1], one_by_one.maps[1], rtol=1e-5, atol=1e-7)
    assert net.training and all(p.requires_grad for p in net.parameters())


def test_scaling_per_case_and_global():
    maps = np.array([[[0.0, 2.0], [1.0, 4.0]]], np.float32)
    case, scale = scale_maps(maps)
    assert scale == 4.0 and case.max() == 1.0 and case[0, 1, 0] == 0.25
    fixed, g = scale_maps(maps, 2.0)
    assert g == 2.0 and fixed[0, 1, 0] == 0.5 and fixed[0, 1, 1] == 1.0  # clipped
    zeros, z = scale_maps(np.zeros((1, 2, 2)))
    assert z == 0.0 and not zeros.any()
    with pytest.raises(ValueError, match="positive"):
        scale_maps(maps, 0.0)


def test_bad_arguments_are_named():
    model = KnownAnswer()
    with pytest.raises(ValueError, match="'nope' is not in the network"):
        resolve_layer(model, "nope")
    with pytest.raises(ValueError, match=r"\(n, c, h, w\)"):
        gradcam2d(model, torch.zeros(1, 64, 64), labels=[0])
    with pytest.raises(ValueError, match="at least one label"):
        gradcam2d(model, _blobs(1), labels=[])
    with pytest.raises(ValueError, match="not \\(n, k, a, b\\)"):
        gradcam2d(model, _blobs(1), labels=[0], layer="head")
