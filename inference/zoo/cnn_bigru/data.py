"""Phantom scans for training and evaluation: model slices, per-slice labels, thickness.

A scan is rendered in memory (``phantoms.subtype_case``), put through the model's own
slice preprocessing (:func:`inference.zoo.slices.slice_stack`: the same code as at
prediction time) and kept as int16 HU (windowing happens per batch: 8x less memory than
three float32 channels). A slice is positive for a subtype when the label map has that
code on it; ``any`` when it has any code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from phantoms.subtype_case import make_subtype_case
from phantoms.subtype_dataset import plan_cases

from ..labels import ICH_LABELS
from ..slices import SliceConfig, slice_stack

LABELS = ICH_LABELS
HELD_OUT_SEED = 100_000  # evaluation case seeds start here; training uses 0..N-1
NORMAL_FRACTION = 0.3
MATRIX = 128


@dataclass(frozen=True)
class Scan:
    """One phantom scan in stack (geometric) order."""

    seed: int
    hu: np.ndarray  # int16 (n, h, w): resampled HU
    labels: np.ndarray  # float32 (n, 6): per-slice targets in LABELS order
    thickness_mm: float
    label_map: np.ndarray  # uint8 (n, y, x) on the input grid, input order (for tests)
    order: np.ndarray  # stack position -> input slice index

    @property
    def n(self) -> int:
        return int(self.hu.shape[0])

    @property
    def scan_labels(self) -> np.ndarray:
        out: np.ndarray = self.labels.max(axis=0)
        return out


def render_scan(seed: int, subtypes: tuple[str, ...], location: str, cfg: SliceConfig) -> Scan:
    case = make_subtype_case(seed, subtypes, location=location, matrix=MATRIX)
    stack = slice_stack(case.to_sitk(), cfg, case.slice_thickness)
    rows = case.slice_labels()
    labels = np.array([[row[k] for k in LABELS] for row in rows], np.float32)[stack.order]
    hu = np.clip(np.rint(stack.hu), -32768, 32767).astype(np.int16)
    return Scan(seed, hu, labels, float(stack.slice_thickness), case.label_map, stack.order)


def scans(n: int, first_seed: int, cfg: SliceConfig) -> list[Scan]:
    """Case seeds ``first_seed .. first_seed + n - 1``; what each holds from ``plan_cases``."""
    plans = plan_cases(n, first_seed, NORMAL_FRACTION)
    return [render_scan(first_seed + i, s, loc, cfg) for i, (s, loc) in enumerate(plans)]


def windowed(hu: torch.Tensor, cfg: SliceConfig) -> torch.Tensor:
    """int16/float (..., h, w) HU -> float32 (..., c, h, w) windows (the model input)."""
    hu = hu.float()
    chans = [((hu - (w.level - w.width / 2)) / w.width).clamp(0, 1) for w in cfg.windows]
    return torch.stack(chans, dim=-3)


def slice_batches(
    data: list[Scan], batch: int, rng: np.random.Generator
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Shuffled (HU (b, h, w), labels (b, 6)) batches over every slice of ``data``."""
    hu = np.concatenate([s.hu for s in data])
    labels = np.concatenate([s.labels for s in data])
    order = rng.permutation(len(hu))
    for lo in range(0, len(order), batch):
        idx = order[lo : lo + batch]
        yield torch.from_numpy(hu[idx]), torch.from_numpy(labels[idx])
