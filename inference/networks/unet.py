"""3D U-Net with CBAM, re-implemented from the description of seed 000 (no code copied).

Seed description -> choice made here:

* depth 4, 32 initial kernels -> ``depth`` resolution levels with ``features * 2**level``
  channels (32/64/128/256 at the seed size); 2x max-pool down, 2x transposed conv up.
* two 3x3x3 convolutions per block, the second dilated -> conv1 (dilation 1) then conv2
  (``dilation``, default 2). The seed's "stride of two" on that conv is read as a typo:
  down-sampling is done by the max-pool, so the dilated conv keeps stride 1.
* "concatenation instead of residual connections" inside blocks -> the block output is
  ``fuse(cat[conv1_out, cbam(conv2_out)])`` with a 1x1x1 fusing convolution.
* PReLU activations; "LN" in the seed's figure -> ``norm="layer"`` = GroupNorm with one
  group (LayerNorm over channels and space, per-channel affine), batch-size independent.
* CBAM after the second convolution of every block (encoder and decoder).
* dropout (0.5 in the seed) at the bottleneck.

Width (``features``) and ``depth`` are configurable so that a small variant runs on CPU.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn

from .cbam import CBAM3d

NORMS = ("layer", "instance", "batch", "none")


@dataclass(frozen=True)
class UNetConfig:
    in_channels: int = 1
    out_channels: int = 1
    features: int = 32
    depth: int = 4
    dilation: int = 2
    norm: str = "layer"
    dropout: float = 0.5
    channel_gate: str = "sigmoid"
    cbam_reduction: int = 8
    cbam: bool = True
    head_grid: tuple[int, int, int] | None = None  # classifier only: pooled grid before the FC

    def __post_init__(self) -> None:
        if self.head_grid is not None:
            object.__setattr__(self, "head_grid", tuple(int(v) for v in self.head_grid))

    def channels(self, level: int) -> int:
        return int(self.features * 2**level)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if out["head_grid"] is None:
            del out["head_grid"]
        else:
            out["head_grid"] = list(out["head_grid"])
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UNetConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown network config keys: {sorted(unknown)}")
        return cls(**data)


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    if kind == "instance":
        return nn.InstanceNorm3d(channels, affine=True)
    if kind == "batch":
        return nn.BatchNorm3d(channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {NORMS}, got {kind!r}")


class ConvBlock(nn.Module):
    """conv3 -> norm -> PReLU -> dilated conv3 -> norm -> PReLU -> CBAM; concat; 1x1 fuse."""

    def __init__(self, cin: int, cout: int, cfg: UNetConfig):
        super().__init__()
        d = cfg.dilation
        self.conv1 = nn.Conv3d(cin, cout, 3, padding=1)
        self.norm1 = _norm(cfg.norm, cout)
        self.act1 = nn.PReLU(cout)
        self.conv2 = nn.Conv3d(cout, cout, 3, padding=d, dilation=d)
        self.norm2 = _norm(cfg.norm, cout)
        self.act2 = nn.PReLU(cout)
        self.cbam: nn.Module = (
            CBAM3d(cout, cfg.cbam_reduction, cfg.channel_gate) if cfg.cbam else nn.Identity()
        )
        self.fuse = nn.Conv3d(2 * cout, cout, 1)
        self.act3 = nn.PReLU(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h1 = self.act1(self.norm1(self.conv1(x)))
        h2 = self.cbam(self.act2(self.norm2(self.conv2(h1))))
        out: torch.Tensor = self.act3(self.fuse(torch.cat([h1, h2], dim=1)))
        return out


class Encoder(nn.Module):
    """Contracting path; returns the feature map of every level (last = bottleneck)."""

    def __init__(self, cfg: UNetConfig):
        super().__init__()
        if cfg.depth < 2:
            raise ValueError("depth must be >= 2")
        self.cfg = cfg
        blocks = []
        cin = cfg.in_channels
        for level in range(cfg.depth):
            blocks.append(ConvBlock(cin, cfg.channels(level), cfg))
            cin = cfg.channels(level)
        self.blocks = nn.ModuleList(blocks)
        self.pool = nn.MaxPool3d(2)
        self.dropout = nn.Dropout3d(cfg.dropout) if cfg.dropout > 0 else nn.Identity()

    @property
    def out_channels(self) -> int:
        return self.cfg.channels(self.cfg.depth - 1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for level, block in enumerate(self.blocks):
            if level > 0:
                x = self.pool(x)
            x = block(x)
            feats.append(x)
        feats[-1] = self.dropout(feats[-1])
        return feats


class UNet3D(nn.Module):
    """Segmentation network: returns logits (one channel = hematoma, sigmoid at inference)."""

    def __init__(self, cfg: UNetConfig | None = None):
        super().__init__()
        cfg = cfg or UNetConfig()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        ups, decs = [], []
        for level in range(cfg.depth - 2, -1, -1):
            ups.append(nn.ConvTranspose3d(cfg.channels(level + 1), cfg.channels(level), 2, 2))
            decs.append(ConvBlock(2 * cfg.channels(level), cfg.channels(level), cfg))
        self.ups = nn.ModuleList(ups)
        self.decoder = nn.ModuleList(decs)
        self.head = nn.Conv3d(cfg.channels(0), cfg.out_channels, 1)

    @property
    def size_multiple(self) -> int:
        """Spatial sizes must be multiples of this (one factor 2 per pooling)."""
        return int(2 ** (self.cfg.depth - 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.encoder(x)
        x = feats[-1]
        for up, dec, skip in zip(self.ups, self.decoder, reversed(feats[:-1])):
            x = dec(torch.cat([up(x), skip], dim=1))
        out: torch.Tensor = self.head(x)
        return out
