"""Shared pieces of the explainers: pass counting, frozen weights, normalisation.

All explainers work on the classifier's 2-channel ROI patch ``x`` of shape (1, 2, z, y, x)
(channel 0 = windowed CT, channel 1 = hematoma mask) and attribute the *logit* of
P(CVST-ICH): positive values push towards ``cvst_ich``, negative towards ``sich``. The logit
is used rather than the probability because the sigmoid saturates and would flatten
gradients for confident cases.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn


class PassCounter(nn.Module):
    """Wraps a model and counts the volumes it processes forward and backward.

    Forward: batch size of every call. Backward: a hook on the output counts the batch when a
    gradient flows back through it (also for partial backward passes, e.g. Grad-CAM++ stops
    at its layer). The counts are measured, not computed from parameters.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.forward_passes = 0
        self.backward_passes = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.model(x)
        n = int(x.shape[0])
        self.forward_passes += n
        if out.requires_grad:
            out.register_hook(self._count_backward(n))
        return out

    def _count_backward(self, n: int) -> Callable[[torch.Tensor], torch.Tensor]:
        def hook(grad: torch.Tensor) -> torch.Tensor:
            self.backward_passes += n
            return grad

        return hook


@contextlib.contextmanager
def frozen(model: nn.Module) -> Iterator[nn.Module]:
    """Parameters without ``requires_grad`` for the duration: backward passes then compute
    input gradients only (no weight gradients - about half the backward cost)."""
    saved = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in saved:
        p.requires_grad_(False)
    try:
        yield model
    finally:
        for p, flag in saved:
            p.requires_grad_(flag)


@dataclass
class Attribution:
    """An explanation on the classifier's patch grid (before mapping to the DICOM grid)."""

    method: str
    array: np.ndarray  # float32 (z, y, x), normalised: [0, 1] or signed [-1, 1]
    signed: bool
    params: dict[str, Any]
    forward_passes: int
    backward_passes: int
    seconds: float
    extras: dict[str, Any] = field(default_factory=dict)


def normalise(arr: np.ndarray, signed: bool) -> tuple[np.ndarray, float]:
    """Scale to [-1, 1] by max |value| (signed) or to [0, 1] by the maximum (unsigned).

    Returns the scaled array and the raw value that maps to 1, so raw attributions can be
    recovered (``raw = array * scale``)."""
    arr = np.asarray(arr, dtype=np.float32)
    scale = float(np.max(np.abs(arr))) if signed else float(np.max(arr))
    if not np.isfinite(scale) or scale <= 0:
        return np.zeros_like(arr), 0.0
    return (arr / scale).astype(np.float32), scale


def upsample_to_patch(cam: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """A coarse (1, 1, d, h, w) layer map -> the patch's ``shape`` (trilinear).

    Voxel-centre convention (``align_corners=False``): coarse cell ``i`` of a layer ``f``
    times smaller covers patch voxels ``f*i .. f*i + f - 1`` (max-pooling by 2 per level),
    so its centre lands on patch coordinate ``f*i + (f - 1) / 2``, where the pooled voxels'
    centre is. ``align_corners=True`` would stretch the map towards the corners instead."""
    if tuple(cam.shape[2:]) == tuple(shape):
        return cam
    return F.interpolate(cam, size=tuple(shape), mode="trilinear", align_corners=False)


def split_input(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if x.ndim != 5 or x.shape[0] != 1 or x.shape[1] != 2:
        raise ValueError(f"expected a (1, 2, z, y, x) patch, got {tuple(x.shape)}")
    return x[:, :1], x[:, 1:]


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
