"""3D CBAM (convolutional block attention module), as described in seed 000.

Channel attention: global average- and max-pooled descriptors pass through one shared MLP
(1x1x1 convolutions), are summed and gated. Spatial attention: the channel-wise max and mean
of the re-weighted features are concatenated, convolved by a 7x7x7 kernel and gated by a
sigmoid, giving one weight per voxel.

The seed says the channel weights come from a *softmax*; standard CBAM uses a sigmoid.
``channel_gate`` selects one:

* ``"sigmoid"`` (default): independent weights in (0, 1) per channel, as in CBAM.
* ``"softmax"``: the seed as written. Softmax weights sum to 1 over channels, which would
  shrink the features by ~1/C per block and starve deeper layers; they are therefore
  multiplied by C so the mean channel gain stays 1 (a documented deviation of scale only).

The last spatial attention map is kept in ``last_spatial`` when ``record`` is on; the
explainers read it to build the seed's CBAM attention maps (blocks 3 and 4).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.grad import conv3d_weight

CHANNEL_GATES = ("sigmoid", "softmax")


class ChannelAttention(nn.Module):
    def __init__(self, channels: int, reduction: int = 8, gate: str = "sigmoid"):
        super().__init__()
        if gate not in CHANNEL_GATES:
            raise ValueError(f"channel gate must be one of {CHANNEL_GATES}, got {gate!r}")
        hidden = max(channels // reduction, 4)
        self.gate = gate
        self.mlp = nn.Sequential(
            nn.Conv3d(channels, hidden, 1, bias=True),
            nn.PReLU(hidden),
            nn.Conv3d(hidden, channels, 1, bias=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        avg = torch.mean(x, dim=(2, 3, 4), keepdim=True)
        mx = torch.amax(x, dim=(2, 3, 4), keepdim=True)
        logits: torch.Tensor = self.mlp(avg) + self.mlp(mx)
        if self.gate == "softmax":
            weights = torch.softmax(logits, dim=1) * x.shape[1]
        else:
            weights = torch.sigmoid(logits)
        return x * weights


class _SameConv3d(torch.autograd.Function):
    """Stride-1 'same' 3D convolution whose input gradient is computed as a convolution.

    On CPU, PyTorch's generic backward for a 2->1 channel 7x7x7 kernel is ~10x slower than a
    forward convolution with the flipped, transposed kernel, which is mathematically the same
    input gradient (stride 1, odd kernel, symmetric padding). The CBAM spatial convolution
    dominated every explainer's backward pass before this; the weight gradient (training
    only) still goes through ``torch.nn.grad.conv3d_weight``.
    """

    @staticmethod
    def forward(
        ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, padding: Any
    ) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.padding = padding
        return F.conv3d(x, weight, bias, padding=padding)

    @staticmethod
    def backward(
        ctx: Any, grad: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None, None]:
        x, weight = ctx.saved_tensors
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            flipped = weight.flip(2, 3, 4).transpose(0, 1).contiguous()
            gx = F.conv3d(grad, flipped, padding=ctx.padding)
        if ctx.needs_input_grad[1]:
            gw = conv3d_weight(x, weight.shape, grad, padding=ctx.padding)
        if ctx.needs_input_grad[2]:
            gb = grad.sum(dim=(0, 2, 3, 4))
        return gx, gw, gb, None


class SpatialAttention(nn.Module):
    def __init__(self, kernel_size: int = 7):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError("spatial attention kernel size must be odd")
        self.conv = nn.Conv3d(2, 1, kernel_size, padding=kernel_size // 2, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        desc = torch.cat(
            [torch.amax(x, dim=1, keepdim=True), torch.mean(x, dim=1, keepdim=True)], 1
        )
        conv = self.conv
        # torch leaves Function.apply unannotated
        out: torch.Tensor = _SameConv3d.apply(desc, conv.weight, conv.bias, conv.padding)  # type: ignore[no-untyped-call]
        return torch.sigmoid(out)


class CBAM3d(nn.Module):
    """Channel then spatial attention; returns the re-weighted features."""

    def __init__(
        self, channels: int, reduction: int = 8, channel_gate: str = "sigmoid", kernel_size: int = 7
    ):
        super().__init__()
        self.channel = ChannelAttention(channels, reduction, channel_gate)
        self.spatial = SpatialAttention(kernel_size)
        self.record = False
        self.last_spatial: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.channel(x)
        attn: torch.Tensor = self.spatial(x)
        if self.record:
            self.last_spatial = attn.detach()
        return x * attn
