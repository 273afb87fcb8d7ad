"""Training and evaluation data: phantom head CTs rendered in memory as slice stacks.

A case is the model's view of one phantom series (:func:`inference.zoo.slices.slice_stack`:
slices in geometric order, resampled in-plane) kept as HU (int16, windowed per batch, a
quarter of the memory of three float channels), with per-slice labels: a slice is positive
for a subtype when the label map has that subtype's code on it; "any" when it has any code.
The subject's labels are the maxima over its slices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from phantoms.subtype_case import make_subtype_case
from phantoms.subtype_dataset import plan_cases
from phantoms.subtypes import CODES, SUBTYPES

from ..slices import SliceConfig, normalise, slice_stack, window_channels

LABELS = ("any", *SUBTYPES)
HELD_OUT_SEED0 = 100_000  # case seeds from here on are never used for training


@dataclass(frozen=True)
class StackCase:
    seed: int
    hu: np.ndarray  # int16 (n, h, w), stack (geometric) order
    slice_labels: np.ndarray  # float32 (n, 6) in LABELS order
    location: str

    @property
    def labels(self) -> np.ndarray:
        """Subject-level labels (6,): any slice positive."""
        out: np.ndarray = self.slice_labels.max(axis=0)
        return out


def slice_labels(label_map: np.ndarray) -> np.ndarray:
    """(z, y, x) label map (0 none, 1..5 subtype codes) -> (z, 6) float32 labels."""
    z = label_map.shape[0]
    flat = label_map.reshape(z, -1)
    out = np.zeros((z, len(LABELS)), np.float32)
    for s in SUBTYPES:
        out[:, LABELS.index(s)] = (flat == CODES[s]).any(axis=1)
    out[:, 0] = out[:, 1:].max(axis=1)
    return out


def render_cases(
    seeds: Sequence[int],
    plan_seed: int,
    config: SliceConfig,
    normal_fraction: float = 0.35,
    matrix: int = 128,
) -> list[StackCase]:
    """Render one thick-slice phantom per seed; what each holds comes from ``plan_cases``."""
    plans = plan_cases(len(seeds), plan_seed, normal_fraction)
    cases = []
    for seed, (subtypes, location) in zip(seeds, plans, strict=True):
        case = make_subtype_case(int(seed), subtypes, location=location, matrix=matrix)
        stack = slice_stack(case.to_sitk(), config, case.slice_thickness)
        labels = slice_labels(np.asarray(case.label_map))[stack.order]
        hu = np.clip(np.rint(stack.hu), -32768, 32767).astype(np.int16)
        cases.append(StackCase(int(seed), hu, labels, case.location))
    return cases


def held_out_seeds(n: int) -> list[int]:
    return [HELD_OUT_SEED0 + i for i in range(n)]


def network_input(hu: np.ndarray, config: SliceConfig) -> np.ndarray:
    """(n, h, w) HU -> (n, c, h, w) float32 network input (windows, normalisation)."""
    return normalise(window_channels(hu.astype(np.float32), config.windows), config.normalisation)
