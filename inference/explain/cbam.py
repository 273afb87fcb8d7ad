"""CBAM attention maps of seed 000 ("computed from the CBAM module of the third and fourth
convolutional blocks"): the spatial attention weights of those encoder blocks, recorded in
one forward pass, upsampled (trilinear) to the patch, min-max normalised per block and
averaged. Not an attribution: it shows where the network looked, not which way it voted.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import torch
import torch.nn.functional as F

from ..networks.cbam import CBAM3d
from ..networks.classifier import CBAMClassifier
from ..networks.unet import ConvBlock
from .common import Attribution, PassCounter, Timer


def cbam_attention(
    model: CBAMClassifier, x: torch.Tensor, blocks: tuple[int, ...] = (3, 4)
) -> Attribution:
    encoder_blocks = model.encoder.blocks
    mods: list[CBAM3d] = []
    for b in blocks:
        if not 1 <= b <= len(encoder_blocks):
            raise ValueError(f"block {b} out of range 1..{len(encoder_blocks)}")
        cbam = cast(ConvBlock, encoder_blocks[b - 1]).cbam
        if not isinstance(cbam, CBAM3d):  # nn.Identity when built with cbam=False
            raise ValueError("this network has no CBAM modules")
        mods.append(cbam)
    counter = PassCounter(model)
    maps = []
    with Timer() as timer, torch.inference_mode():
        for m in mods:
            m.record = True
        try:
            counter(x)
            for m in mods:
                if m.last_spatial is None:
                    raise RuntimeError("a CBAM module recorded no attention map")
                att = F.interpolate(
                    m.last_spatial, size=tuple(x.shape[2:]), mode="trilinear", align_corners=False
                )[0, 0].numpy()
                lo, hi = float(att.min()), float(att.max())
                maps.append((att - lo) / (hi - lo) if hi > lo else np.zeros_like(att))
        finally:
            for m in mods:
                m.record = False
                m.last_spatial = None
    arr = np.mean(maps, axis=0).astype(np.float32)
    return Attribution(
        method="cbam",
        array=arr,
        signed=False,
        params={"blocks": list(blocks), "combine": "mean of per-block min-max maps"},
        forward_passes=counter.forward_passes,
        backward_passes=counter.backward_passes,
        seconds=timer.seconds,
    )
