"""Scoring lesion marks against truth lesions: each mark becomes a lesion localisation (LL) of
one lesion or a non-lesion localisation (NL), as RJafroc's ``TP``/``FP`` rows.

Plain data in, :class:`~.froc_io.MarkRecord` / :class:`~.froc_io.TruthRecord` out; no Django.

Acceptance criteria (:class:`Criterion`), deciding whether a mark *hits* a lesion:

* ``mask``: the mark's point lies in a voxel of the lesion's connected component of the case's
  lesion label map (``Geometry.labels``; lesion ``component`` = its label value).
* ``distance``: the point lies within ``radius_mm`` of the lesion's centroid (the lesion's own
  ``radius_mm`` when it has one and ``use_lesion_radius`` is set).
* ``roi_overlap``: an ellipse/rectangle mark's box (its two corners, widened by half a voxel on
  each axis so that a box on one slice has a thickness) holds a voxel of the lesion's component;
  without a label map, the box meets the sphere of the lesion's radius (or ``radius_mm``) around
  its centroid. A point mark is scored as a zero-size box.

Matching: marks are taken from the highest rating down (ties: the mark's id); each takes the
nearest lesion (centroid distance) it hits that no earlier mark has taken, and is that lesion's
LL. A mark that hits no untaken lesion - a second mark on a lesion, or any mark on a normal case
- is an NL. So each lesion's LL rating is the highest rating among the marks that hit it, and
every mark appears exactly once in the output (RJafroc's convention of one LL per lesion).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .froc_io import MarkRecord, TruthRecord

CRITERIA = ("mask", "distance", "roi_overlap")
ROI_TOOLS = ("ellipse", "rectangle")
Vec = tuple[float, float, float]


class ScoringError(ValueError):
    """Marks, lesions or geometry that cannot be scored; the message names the problem."""


@dataclass(frozen=True)
class Criterion:
    kind: str = "distance"
    radius_mm: float = 10.0
    use_lesion_radius: bool = True

    def __post_init__(self) -> None:
        if self.kind not in CRITERIA:
            raise ScoringError(
                f"acceptance criterion must be one of {', '.join(CRITERIA)}, not {self.kind!r}"
            )
        if not (isinstance(self.radius_mm, int | float) and math.isfinite(self.radius_mm)):
            raise ScoringError(f"radius_mm must be a finite number, not {self.radius_mm!r}")
        if self.radius_mm <= 0:
            raise ScoringError(f"radius_mm must be > 0, not {self.radius_mm!r}")


@dataclass(frozen=True)
class Lesion:
    """A truth lesion: ``id`` 1..n within its case; ``component`` its label in the label map."""

    id: int
    centroid_mm: Vec
    weight: float = 0.0
    radius_mm: float | None = None
    component: int | None = None
    voxels: int | None = None


@dataclass(frozen=True)
class Mark:
    id: str
    point_mm: Vec
    rating: float
    tool: str = "point"
    corners_mm: tuple[Vec, Vec] | None = None


@dataclass(frozen=True)
class Geometry:
    """A label map (z, y, x) with its grid in SimpleITK order (origin, spacing, direction: the
    row-major 3x3 matrix whose columns are the x, y, z index axes in patient mm)."""

    labels: np.ndarray
    origin: Vec
    spacing: Vec
    direction: tuple[float, ...]

    def _matrix(self) -> np.ndarray:
        d = np.asarray(self.direction, dtype=float).reshape(3, 3)
        out: np.ndarray = d * np.asarray(self.spacing, dtype=float)[None, :]
        return out

    def to_index(self, point: Sequence[float]) -> tuple[int, int, int] | None:
        """(z, y, x) voxel holding ``point`` (mm), or None outside the grid."""
        ijk = np.linalg.solve(self._matrix(), np.asarray(point, float) - np.asarray(self.origin))
        x, y, z = (int(v) for v in np.rint(ijk))
        shape = self.labels.shape
        if 0 <= z < shape[0] and 0 <= y < shape[1] and 0 <= x < shape[2]:
            return z, y, x
        return None

    def points_of(self, component: int) -> np.ndarray:
        """(n, 3) patient-mm centres of the voxels labelled ``component``."""
        zyx = np.argwhere(self.labels == component)
        if not len(zyx):
            return np.zeros((0, 3))
        out: np.ndarray = zyx[:, ::-1] @ self._matrix().T + np.asarray(self.origin, float)
        return out

    def half_voxel(self) -> np.ndarray:
        """Half the extent of a voxel along each patient axis (mm)."""
        out: np.ndarray = 0.5 * np.abs(self._matrix()).sum(axis=1)
        return out


def mark_from_answer(item: dict[str, Any]) -> Mark:
    """A mark of a ``marks`` answer (``id, tool, point_mm, rating, extent_mm``) as a :class:`Mark`."""
    try:
        point = _vec(item["point_mm"])
        corners = None
        extent = item.get("extent_mm") or {}
        if item.get("tool") in ROI_TOOLS and extent.get("corners_mm"):
            a, b = extent["corners_mm"]
            corners = (_vec(a), _vec(b))
        rating = float(item["rating"])
        return Mark(str(item["id"]), point, rating, str(item.get("tool") or "point"), corners)
    except (KeyError, TypeError, ValueError) as exc:
        raise ScoringError(f"mark {item.get('id', '?')!r} is malformed: {exc}") from exc


def _vec(v: Sequence[float]) -> Vec:
    if len(v) != 3:
        raise ValueError(f"expected 3 coordinates, got {len(v)}")
    x, y, z = (float(c) for c in v)
    if not all(math.isfinite(c) for c in (x, y, z)):
        raise ValueError("coordinates must be finite")
    return x, y, z


def _box(mark: Mark, pad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if mark.corners_mm is None:
        lo = hi = np.asarray(mark.point_mm, float)
    else:
        a, b = (np.asarray(c, float) for c in mark.corners_mm)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
    return lo - pad, hi + pad


def _box_meets_sphere(lo: np.ndarray, hi: np.ndarray, centre: Vec, radius: float) -> bool:
    nearest = np.clip(np.asarray(centre, float), lo, hi)
    return float(np.linalg.norm(nearest - np.asarray(centre, float))) <= radius


def _radius(lesion: Lesion, criterion: Criterion) -> float:
    if criterion.use_lesion_radius and lesion.radius_mm:
        return float(lesion.radius_mm)
    return criterion.radius_mm


def _needs_component(lesion: Lesion, geometry: Geometry | None) -> int:
    if geometry is None or lesion.component is None:
        raise ScoringError(
            f"lesion {lesion.id} has no mask component: the 'mask' criterion needs lesions "
            "extracted from the case's mask"
        )
    return lesion.component


def hits(
    mark: Mark, lesion: Lesion, criterion: Criterion, geometry: Geometry | None = None
) -> bool:
    """Whether ``mark`` localises ``lesion`` under ``criterion``."""
    if criterion.kind == "distance":
        d = math.dist(mark.point_mm, lesion.centroid_mm)
        return d <= _radius(lesion, criterion)
    if criterion.kind == "mask":
        component = _needs_component(lesion, geometry)
        assert geometry is not None
        index = geometry.to_index(mark.point_mm)
        return index is not None and int(geometry.labels[index]) == component
    # roi_overlap
    if geometry is not None and lesion.component is not None:
        lo, hi = _box(mark, geometry.half_voxel())
        pts = geometry.points_of(lesion.component)
        return bool(np.any(np.all((pts >= lo) & (pts <= hi), axis=1)))
    lo, hi = _box(mark, np.zeros(3))
    return _box_meets_sphere(lo, hi, lesion.centroid_mm, _radius(lesion, criterion))


def match_marks(
    marks: Sequence[Mark],
    lesions: Sequence[Lesion],
    criterion: Criterion,
    geometry: Geometry | None = None,
) -> list[tuple[Mark, int]]:
    """Each mark with the lesion id it localises (0 = NL), in the order given."""
    ids = [x.id for x in lesions]
    if len(set(ids)) != len(ids) or any(i < 1 for i in ids):
        raise ScoringError(f"lesion ids must be distinct integers >= 1, got {ids}")
    mark_ids = [m.id for m in marks]
    if len(set(mark_ids)) != len(mark_ids):
        raise ScoringError(
            f"mark ids repeat: {sorted({i for i in mark_ids if mark_ids.count(i) > 1})}"
        )
    taken: dict[int, str] = {}
    result: dict[str, int] = {}
    for mark in sorted(marks, key=lambda m: (-m.rating, m.id)):
        candidates = [
            (math.dist(mark.point_mm, x.centroid_mm), x.id)
            for x in lesions
            if x.id not in taken and hits(mark, x, criterion, geometry)
        ]
        if candidates:
            lesion_id = min(candidates)[1]
            taken[lesion_id] = mark.id
            result[mark.id] = lesion_id
        else:
            result[mark.id] = 0
    return [(m, result[m.id]) for m in marks]


def case_mark_records(
    reader: str,
    modality: str,
    case: str,
    marks: Sequence[Mark],
    lesions: Sequence[Lesion],
    criterion: Criterion,
    geometry: Geometry | None = None,
) -> list[MarkRecord]:
    """NL / LL records of one reader's marks on one case in one modality."""
    return [
        MarkRecord(reader, modality, case, mark.rating, lesion)
        for mark, lesion in match_marks(marks, lesions, criterion, geometry)
    ]


def normalised_weights(weights: Sequence[float | None]) -> list[float]:
    """Lesion weights summing to 1 (all missing or zero = equal weights), as RJafroc."""
    n = len(weights)
    if not n:
        return []
    values = [0.0 if w is None else float(w) for w in weights]
    if any(not math.isfinite(w) or w < 0 for w in values):
        raise ScoringError(f"lesion weights must be finite and >= 0, got {values}")
    total = sum(values)
    if total == 0:
        return [1.0 / n] * n
    return [w / total for w in values]


WEIGHTINGS = ("equal", "volume")


def mask_lesions(
    mask: np.ndarray,
    origin: Sequence[float],
    spacing: Sequence[float],
    direction: Sequence[float],
    *,
    weighting: str = "equal",
    min_voxels: int = 1,
) -> tuple[list[Lesion], Geometry]:
    """Truth lesions of a binary mask (z, y, x): its 26-connected components, largest first,
    numbered 1..n, each with its centroid in patient mm and a weight (``equal``, or by
    ``volume``), and the label map they were numbered in. Components smaller than
    ``min_voxels`` are dropped (their voxels become background)."""
    from scipy import ndimage

    if weighting not in WEIGHTINGS:
        raise ScoringError(f"weighting must be one of {', '.join(WEIGHTINGS)}, not {weighting!r}")
    if min_voxels < 1:
        raise ScoringError(f"min_voxels must be >= 1, not {min_voxels}")
    binary = np.asarray(mask) > 0
    if binary.ndim != 3:
        raise ScoringError(f"the mask must be 3-D (z, y, x), not {binary.ndim}-D")
    raw, n = ndimage.label(binary, structure=np.ones((3, 3, 3), dtype=bool))
    sizes = np.bincount(raw.ravel(), minlength=n + 1)[1:]
    keep = [c + 1 for c in np.argsort(-sizes, kind="stable") if sizes[c] >= min_voxels]
    lookup = np.zeros(n + 1, dtype=np.int32)
    for new, old in enumerate(keep, start=1):
        lookup[old] = new
    labels = lookup[raw]
    geometry = Geometry(
        labels,
        _vec(origin),
        _vec(spacing),
        tuple(float(v) for v in direction),
    )
    if not keep:
        return [], geometry
    counts = [int(sizes[old - 1]) for old in keep]
    weights = normalised_weights(
        [float(c) for c in counts] if weighting == "volume" else [0.0] * len(keep)
    )
    lesions = []
    for new, (w, count) in enumerate(zip(weights, counts, strict=True), start=1):
        c = geometry.points_of(new).mean(axis=0)
        centroid = (float(c[0]), float(c[1]), float(c[2]))
        lesions.append(Lesion(new, centroid, w, None, new, count))
    return lesions, geometry


def case_truth_records(case: str, lesions: Iterable[Lesion]) -> list[TruthRecord]:
    """TRUTH rows of one case: one row with lesion 0 for a normal case, else one per lesion."""
    items = sorted(lesions, key=lambda x: x.id)
    if not items:
        return [TruthRecord(case, 0, 0.0)]
    weights = normalised_weights([x.weight for x in items])
    return [TruthRecord(case, x.id, w) for x, w in zip(items, weights, strict=True)]
