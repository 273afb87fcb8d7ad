"""Networks of seed 000: shapes, options, encoder transfer, the custom CBAM gradient."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from inference.networks.cbam import CBAM3d, _SameConv3d
from inference.networks.classifier import CBAMClassifier
from inference.networks.unet import UNet3D, UNetConfig


def test_unet_shapes_and_seed_layout():
    cfg = UNetConfig(features=4, depth=4)
    net = UNet3D(cfg).eval()
    x = torch.rand(1, 1, 16, 32, 32)
    assert net(x).shape == (1, 1, 16, 32, 32)
    assert [b.conv1.out_channels for b in net.encoder.blocks] == [4, 8, 16, 32]
    block = net.encoder.blocks[0]
    assert block.conv2.dilation == (2, 2, 2) and block.conv1.dilation == (1, 1, 1)
    assert isinstance(block.act1, torch.nn.PReLU) and isinstance(block.cbam, CBAM3d)
    assert block.cbam.spatial.conv.kernel_size == (7, 7, 7)
    assert isinstance(net.ups[0], torch.nn.ConvTranspose3d)


def test_seed_size_parameter_count_is_plausible():
    """Seed size (32 kernels, depth 4): a few million parameters, not a toy."""
    n = sum(p.numel() for p in CBAMClassifier(UNetConfig(in_channels=2)).parameters())
    assert 2e6 < n < 10e6


@pytest.mark.parametrize("gate", ["sigmoid", "softmax"])
def test_cbam_channel_gate_options(gate):
    torch.manual_seed(0)
    m = CBAM3d(8, reduction=2, channel_gate=gate)
    x = torch.rand(2, 8, 4, 6, 6)
    weights_applied = m.channel(x) / x
    if gate == "softmax":
        # softmax weights rescaled by C: mean channel gain exactly 1
        assert torch.allclose(weights_applied.mean(dim=1), torch.ones(2, 4, 6, 6), atol=1e-5)
    else:
        assert (weights_applied > 0).all() and (weights_applied < 1).all()
    with pytest.raises(ValueError, match="channel gate"):
        CBAM3d(8, channel_gate="tanh")


def test_same_conv_custom_backward_matches_autograd():
    """The hand-written input/weight/bias gradients equal PyTorch's own conv3d gradients."""
    torch.manual_seed(0)
    x = torch.randn(2, 2, 5, 6, 7, dtype=torch.float64, requires_grad=True)
    w = torch.randn(1, 2, 7, 7, 7, dtype=torch.float64, requires_grad=True)
    b = torch.randn(1, dtype=torch.float64, requires_grad=True)
    g = torch.randn(2, 1, 5, 6, 7, dtype=torch.float64)
    y = _SameConv3d.apply(x, w, b, (3, 3, 3))
    ours = torch.autograd.grad(y, (x, w, b), g)
    ref_y = F.conv3d(x, w, b, padding=3)
    ref = torch.autograd.grad(ref_y, (x, w, b), g)
    assert torch.allclose(y, ref_y)
    for a, r in zip(ours, ref):
        assert torch.allclose(a, r, atol=1e-10)


def test_classifier_transfer_encoder():
    torch.manual_seed(0)
    cfg = UNetConfig(features=4, depth=3)
    seg = UNet3D(cfg)
    clf = CBAMClassifier(UNetConfig(in_channels=2, features=4, depth=3))
    before_mask_kernel = clf.encoder.blocks[0].conv1.weight[:, 1:].clone()
    clf.transfer_encoder(seg)
    w_seg = seg.encoder.blocks[0].conv1.weight
    w_clf = clf.encoder.blocks[0].conv1.weight
    assert torch.equal(w_clf[:, :1], w_seg)
    assert torch.equal(w_clf[:, 1:], before_mask_kernel)
    assert torch.equal(clf.encoder.blocks[2].conv2.weight, seg.encoder.blocks[2].conv2.weight)
    out = clf.eval()(torch.rand(3, 2, 8, 16, 16))
    assert out.shape == (3,)
