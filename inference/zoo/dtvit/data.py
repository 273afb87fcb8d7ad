"""Training and evaluation slices from synthetic phantoms (rendered in memory).

A case's slices go through the same preprocessing as inference (:func:`slice_stack`:
three CT windows as RGB, 224x224 in-plane, ImageNet normalisation); the HU slices are kept
(float16) and windowed per batch, so augmentation (flip, rotation) happens in HU.

Slice labels: ``ich`` = the label map has any haemorrhage on the slice; ``location`` = the
case's intraparenchymal-haematoma location class when the slice holds intraparenchymal
blood, else -1 (no location target on that slice).

The training plan (:func:`training_plan`) takes which of case seeds 0..n-1 are normal from
``phantoms.subtype_dataset.plan_cases``; every other case holds one intraparenchymal
haematoma (seed 003's cohort: spontaneous intracerebral haemorrhage, classified by its
location), the three locations in turn so each has as many cases. The other subtypes are
outside this model's scope, as they were outside the seed's data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from phantoms.subtype_case import SubtypeCase, make_subtype_case
from phantoms.subtype_dataset import plan_cases
from phantoms.subtypes import CODES

from ..slices import SliceConfig, SliceStack, normalise, slice_stack, window_channels
from .network import LOCATIONS

NORMAL_FRACTION = 0.3


@dataclass(frozen=True)
class CasePlan:
    seed: int
    subtypes: tuple[str, ...]
    location: str

    def render(self, matrix: int = 128) -> SubtypeCase:
        return make_subtype_case(self.seed, self.subtypes, location=self.location, matrix=matrix)


def training_plan(n_cases: int, seed: int = 0, first_case: int = 0) -> list[CasePlan]:
    """Case seeds ``first_case .. first_case + n_cases - 1`` (see the module docstring)."""
    out: list[CasePlan] = []
    n_iph = 0
    for i, (subtypes, _) in enumerate(plan_cases(n_cases, seed, NORMAL_FRACTION)):
        if not subtypes:
            out.append(CasePlan(first_case + i, (), ""))
            continue
        out.append(CasePlan(first_case + i, ("iph",), LOCATIONS[n_iph % len(LOCATIONS)]))
        n_iph += 1
    return out


@dataclass
class SliceSet:
    """Slices of many cases, stacked: HU (float16) and per-slice targets."""

    hu: np.ndarray  # float16 (n, h, w), model slice grid, ascending geometric order
    ich: np.ndarray  # float32 (n,) 0/1
    location: np.ndarray  # int64 (n,), index into LOCATIONS or -1
    case: np.ndarray  # int64 (n,): position of the slice's case in the plan

    def __len__(self) -> int:
        return int(self.ich.shape[0])


def slice_targets(case: SubtypeCase, stack: SliceStack) -> tuple[np.ndarray, np.ndarray]:
    """(ich, location) per stack slice (stack order, see ``SliceStack.order``)."""
    labels = case.label_map[stack.order]
    ich = np.any(labels > 0, axis=(1, 2)).astype(np.float32)
    iph = np.any(labels == CODES["iph"], axis=(1, 2))
    loc = np.full(len(ich), -1, dtype=np.int64)
    if case.location:
        loc[iph] = LOCATIONS.index(case.location)
    return ich, loc


def render_slices(plans: Sequence[CasePlan], config: SliceConfig, matrix: int = 128) -> SliceSet:
    hu, ich, loc, which = [], [], [], []
    for i, plan in enumerate(plans):
        case = plan.render(matrix)
        stack = slice_stack(case.to_sitk(), config, case.slice_thickness)
        y, z = slice_targets(case, stack)
        hu.append(stack.hu.astype(np.float16))
        ich.append(y)
        loc.append(z)
        which.append(np.full(len(y), i, dtype=np.int64))
    return SliceSet(
        np.concatenate(hu), np.concatenate(ich), np.concatenate(loc), np.concatenate(which)
    )


def to_input(hu: np.ndarray, config: SliceConfig) -> np.ndarray:
    """HU slices (n, h, w) -> the network's (n, 3, h, w) input, as inference builds it."""
    return normalise(
        window_channels(np.asarray(hu, np.float32), config.windows), config.normalisation
    )


def balanced_indices(data: SliceSet, rng: np.random.Generator) -> np.ndarray:
    """One epoch's slice indices, class-balanced by replication as in the seed: the three
    locations about 1:1:1 among intraparenchymal slices, then ICH vs no ICH about 1:1."""
    idx = np.arange(len(data))
    repeat = np.ones(len(data), dtype=np.int64)
    loc_counts = [int(np.sum(data.location == k)) for k in range(len(LOCATIONS))]
    top = max(loc_counts)
    for k, count in enumerate(loc_counts):
        if count:
            repeat[data.location == k] = max(1, round(top / count))
    pos = data.ich > 0
    n_pos = int(np.sum(repeat[pos]))
    n_neg = int(np.sum(~pos))
    if n_pos and n_neg:
        if n_pos < n_neg:
            repeat[pos] *= max(1, round(n_neg / n_pos))
        else:
            repeat[~pos] *= max(1, round(n_pos / n_neg))
    out = np.repeat(idx, repeat)
    rng.shuffle(out)
    return out
