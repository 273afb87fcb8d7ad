"""Cause classifier of seed 000: the segmentation encoder + a fully connected layer.

Input: a 2-channel patch ``[windowed CT, hematoma mask]``. Output: one logit; its sigmoid is
explicitly P(CVST-ICH) (positive class ``"cvst_ich"``, label 1; sICH = 0). The released code
of the seed's authors used the opposite polarity; this package never does.

The encoder is the segmentation U-Net's encoder with ``in_channels=2``; ``transfer_encoder``
copies pretrained segmentation weights (the proxy task of the seed), putting the CT-channel
kernels of the first convolution in place and leaving the mask channel's kernels freshly
initialised.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, cast

import torch
from torch import nn

from .unet import ConvBlock, Encoder, UNet3D, UNetConfig


class CBAMClassifier(nn.Module):
    """Encoder -> pooling -> dropout -> one fully connected unit (the logit).

    Pooling: global average by default; with ``cfg.head_grid`` an adaptive average pool to a
    small grid (e.g. 2x4x4) that is flattened into the FC, which keeps coarse position: the
    patch is centred on the hematoma, so the FC can weigh the lesion and its surroundings
    (perihematomal edema) differently from far-away tissue instead of averaging them away.
    """

    def __init__(self, cfg: UNetConfig | None = None):
        super().__init__()
        cfg = cfg or UNetConfig(in_channels=2)
        if cfg.in_channels != 2:
            cfg = dataclasses.replace(cfg, in_channels=2)
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.head_dropout = nn.Dropout(cfg.dropout) if cfg.dropout > 0 else nn.Identity()
        if cfg.head_grid:
            self.pool = nn.AdaptiveAvgPool3d(cfg.head_grid)
            n_in = self.encoder.out_channels * math.prod(cfg.head_grid)
        else:
            self.pool = nn.AdaptiveAvgPool3d(1)
            n_in = self.encoder.out_channels
        self.fc = nn.Linear(n_in, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logit of P(CVST-ICH), shape (batch,)."""
        feat = self.encoder(x)[-1]
        pooled = torch.flatten(self.pool(feat), 1)
        logits: torch.Tensor = self.fc(self.head_dropout(pooled))
        return logits[:, 0]

    def cbam_modules(self) -> list[nn.Module]:
        return [cast(ConvBlock, block).cbam for block in self.encoder.blocks]

    def transfer_encoder(self, seg: UNet3D) -> None:
        """Initialise the encoder from a trained segmentation network (seed 000)."""
        src = seg.encoder.state_dict()
        dst = self.encoder.state_dict()
        for key, value in src.items():
            if key not in dst:
                continue
            if dst[key].shape == value.shape:
                dst[key] = value.clone()
            elif key == "blocks.0.conv1.weight" and value.shape[1] == 1:
                dst[key][:, :1] = value  # CT channel; mask channel keeps its own init
            else:
                raise ValueError(f"cannot transfer {key}: {tuple(value.shape)} -> {dst[key].shape}")
        self.encoder.load_state_dict(dst)


def build_segmenter(config: dict[str, Any]) -> UNet3D:
    return UNet3D(UNetConfig.from_dict(config))


def build_classifier(config: dict[str, Any]) -> CBAMClassifier:
    return CBAMClassifier(UNetConfig.from_dict(config))
