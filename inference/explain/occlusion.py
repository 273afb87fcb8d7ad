"""Occlusion: slide a block over the patch, fill it with a baseline, record the logit drop.

Value per voxel = mean over the windows covering it of ``logit(x) - logit(x occluded)``:
positive where hiding the region lowers P(CVST-ICH) (the region supported CVST-ICH),
negative where it supported sICH. Voxels no window covered are 0.

Speed: the search is limited to the hematoma bounding box plus a margin (``region="bbox"``,
the default when a box is given) instead of the whole volume, occluded copies are evaluated
in batches under ``torch.inference_mode``, and ``max_windows`` caps the cost by widening the
stride for very large hematomas (the widened stride is reported).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from .common import Attribution, PassCounter, Timer, normalise


def _starts(lo: int, hi: int, window: int, stride: int) -> list[int]:
    """Window starts covering [lo, hi) with the given stride (last window flush with hi)."""
    if hi - lo <= window:
        return [max(0, hi - window)]  # one window containing the whole range
    starts = list(range(lo, hi - window + 1, stride))
    if starts[-1] + window < hi:
        starts.append(hi - window)
    return starts


def occlusion(
    model: nn.Module,
    x: torch.Tensor,
    window: tuple[int, int, int] = (4, 16, 16),
    stride: tuple[int, int, int] = (4, 16, 16),
    region: str = "bbox",
    bbox: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    margin: tuple[int, int, int] = (2, 8, 8),
    baseline: float = 0.0,
    channels: str = "ct",
    batch_size: int = 4,
    max_windows: int = 64,
) -> Attribution:
    if x.ndim != 5 or x.shape[0] != 1:
        raise ValueError("expected a (1, C, z, y, x) patch")
    if channels not in ("ct", "both"):
        raise ValueError("channels must be 'ct' or 'both'")
    shape = np.asarray(x.shape[2:])
    win = np.minimum(np.asarray(window, dtype=int), shape)
    step = np.maximum(np.asarray(stride, dtype=int), 1)
    if region == "bbox" and bbox is not None:
        lo = np.clip(np.asarray(bbox[0]) - np.asarray(margin), 0, shape)
        hi = np.clip(np.asarray(bbox[1]) + np.asarray(margin), 0, shape)
        used_region = "bbox"
    elif region in ("bbox", "patch"):
        lo, hi = np.zeros(3, int), shape.copy()
        used_region = "patch"
    else:
        raise ValueError("region must be 'bbox' or 'patch'")
    while True:
        axes = [_starts(int(a), int(b), int(w), int(s)) for a, b, w, s in zip(lo, hi, win, step)]
        n_windows = math.prod(len(a) for a in axes)
        if n_windows <= max_windows:
            break
        step = step + np.maximum(step // 4, 1)
    positions = list(itertools.product(*axes))
    ch = slice(0, 1) if channels == "ct" else slice(None)
    counter = PassCounter(model)
    total = np.zeros(tuple(shape), dtype=np.float64)
    count = np.zeros(tuple(shape), dtype=np.float64)
    with Timer() as timer, torch.inference_mode():
        base = float(counter(x)[0])
        for i in range(0, len(positions), batch_size):
            chunk = positions[i : i + batch_size]
            batch = x.repeat(len(chunk), 1, 1, 1, 1)
            for j, (z, y, xx) in enumerate(chunk):
                wz, wy, wx = win
                batch[j, ch, z : z + wz, y : y + wy, xx : xx + wx] = baseline
            drops = base - counter(batch).numpy()
            for (z, y, xx), d in zip(chunk, drops):
                wz, wy, wx = win
                total[z : z + wz, y : y + wy, xx : xx + wx] += d
                count[z : z + wz, y : y + wy, xx : xx + wx] += 1
    raw = np.divide(total, count, out=np.zeros_like(total), where=count > 0).astype(np.float32)
    arr, scale = normalise(raw, signed=True)
    return Attribution(
        method="occlusion",
        array=arr,
        signed=True,
        params={
            "window": [int(v) for v in win],
            "stride": [int(v) for v in step],
            "region": used_region,
            "region_start": [int(v) for v in lo],
            "region_stop": [int(v) for v in hi],
            "baseline": float(baseline),
            "channels": channels,
            "batch_size": int(batch_size),
            "n_windows": len(positions),
            "target": "logit(x) - logit(occluded)",
            "scale": scale,
        },
        forward_passes=counter.forward_passes,
        backward_passes=counter.backward_passes,
        seconds=timer.seconds,
        extras={"logit": base},
    )
