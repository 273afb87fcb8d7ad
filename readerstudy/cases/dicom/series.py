"""Series assembly, validation, primary-series choice and volume building.

Input: (label, Dataset) pairs, one per instance (headers suffice until pixels are needed), or
(label, :class:`SliceHeader`) pairs: the few header values the checks below read.
Instances are grouped by (StudyInstanceUID, SeriesInstanceUID).  For each series:

* every instance must be CT Image Storage with Modality CT (``wrong_modality``,
  ``unsupported_sop_class``; mixed SOP classes, modalities, frames of reference or patients
  inside one SeriesInstanceUID give ``mixed_series``);
* Rows, Columns, PixelSpacing and ImageOrientationPatient must be present and equal
  (``inconsistent_geometry``); more than ``max_rows`` x ``max_columns`` pixels, more than
  ``max_slices`` or fewer than ``min_slices`` slices give ``absurd_dimensions``;
* slices are sorted along the normal ``n = row x col`` of ImageOrientationPatient by the
  projection ``n . ImagePositionPatient``.  With ``d`` the median of the non-zero steps:
  a step below ``dup_tol`` is a duplicate (``duplicate_slices``), a step above
  ``1.5 d`` is a gap (``missing_slices``, with the estimated count), any other step off ``d``
  by more than ``max(spacing_abs_tol_mm, spacing_rel_tol * d)`` is ``inconsistent_geometry``.
  Slice indices in messages are 0-based, in sorted order.  The order never depends on file
  names or InstanceNumber;
* gantry tilt: the slice positions may step along a direction ``s`` other than the normal (a
  tilted gantry steps along the table while the image plane is tilted; the grid is sheared).
  The tilt is the angle between ``s`` and ``n``: up to ``tilt_tol_deg`` (rounding of the
  positions) the series counts as untilted; up to ``max_gantry_tilt_deg`` (30 degrees) it is
  accepted and recorded (``SeriesInfo.gantry_tilt``, ``SeriesInfo.step``); beyond, it is
  ``gantry_tilt``, naming the angle.  Positions that do not lie on one line (a step that
  changes direction) are ``inconsistent_geometry``.

Volume geometry: the volume keeps the acquired grid, slice ``k`` being the ``k``-th sorted
slice, so it matches the stored files frame by frame.  Its direction has the columns
``(row, column, s)`` and its spacing ``(column spacing, row spacing, |step|)``: for a tilted
series the direction is not orthogonal and carries the shear (``|step| = d / cos(tilt)``), for
any other series it is ``(row, column, n)`` as before.  NIfTI readers built on ITK cannot hold
a shear, so such a volume is kept as MetaImage (:func:`volume_suffix`); models resample it
onto their own orthogonal grid.

Primary series rule (``choose_primary``): among series without errors whose orientation is
axial (the normal's largest component is the patient z axis, ``|n_z| >= 0.8``), take the one
with the smallest sort key ``(ImageType not ORIGINAL\\PRIMARY, |SliceThickness - 5 mm|,
-number of slices, SeriesNumber, SeriesInstanceUID)``.  5 mm (``target_thickness_mm``) is the
slice thickness of routine head CT and of the reference model's inputs; thin-slice series are
chosen only when no thick axial series exists.  ``override`` names a series by its original or
de-identified SeriesInstanceUID and wins over the rule.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydicom.dataset import Dataset

from .errors import DicomIngestError, ErrorCode, IngestError

if TYPE_CHECKING:
    import SimpleITK as sitk

__all__ = [
    "CT_IMAGE_STORAGE",
    "HUVolume",
    "Header",
    "SeriesInfo",
    "SeriesLimits",
    "SliceHeader",
    "analyze_series",
    "assemble_series",
    "build_sitk_image",
    "choose_primary",
    "group_by_series",
    "load_hu_volume",
    "volume_suffix",
    "write_nifti",
]

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


@dataclass(frozen=True)
class SeriesLimits:
    max_rows: int = 2048
    max_columns: int = 2048
    max_slices: int = 2000
    min_slices: int = 3
    spacing_rel_tol: float = 0.05
    spacing_abs_tol_mm: float = 0.05
    dup_tol_mm: float = 0.01
    orientation_tol: float = 1e-3
    pixel_spacing_rel_tol: float = 1e-3
    tilt_tol_deg: float = 0.5  # below: untilted (rounded positions)
    max_gantry_tilt_deg: float = 30.0  # above: refused (gantry_tilt)


@dataclass
class SeriesInfo:
    """One series after grouping, sorting and header validation (no pixels decoded yet)."""

    study_uid: str
    series_uid: str
    labels: list[str]
    datasets: list[Dataset]
    modality: str = ""
    frame_uid: str = ""
    rows: int = 0
    columns: int = 0
    pixel_spacing: tuple[float, float] = (0.0, 0.0)  # (row spacing, column spacing) in mm
    slice_spacing: float = 0.0
    slice_thickness: float | None = None
    orientation: tuple[float, ...] = ()
    normal: tuple[float, float, float] = (0.0, 0.0, 0.0)
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    # gantry tilt in degrees (0: untilted) and the unit direction from slice to slice
    # (the normal when untilted)
    gantry_tilt: float = 0.0
    step: tuple[float, float, float] = (0.0, 0.0, 0.0)
    image_type: tuple[str, ...] = ()
    series_number: int | None = None
    description: str = ""
    errors: list[IngestError] = field(default_factory=list)

    @property
    def n_slices(self) -> int:
        return len(self.labels)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def is_axial(self) -> bool:
        n = np.abs(np.asarray(self.normal, float))
        return bool(n.size == 3 and n.argmax() == 2 and n[2] >= 0.8)

    @property
    def is_original_primary(self) -> bool:
        it = [v.upper() for v in self.image_type]
        return len(it) >= 2 and it[0] == "ORIGINAL" and it[1] == "PRIMARY"

    def summary(self) -> dict[str, Any]:
        """JSON-friendly description without PHI (UIDs are de-identified ones)."""
        return {
            "study_uid": self.study_uid,
            "series_uid": self.series_uid,
            "modality": self.modality,
            "n_slices": self.n_slices,
            "rows": self.rows,
            "columns": self.columns,
            "pixel_spacing": list(self.pixel_spacing),
            "slice_spacing": self.slice_spacing,
            "slice_thickness": self.slice_thickness,
            "gantry_tilt_deg": self.gantry_tilt,
            "image_type": list(self.image_type),
            "series_number": self.series_number,
            "description": self.description,
            "axial": self.is_axial,
            "errors": [e.as_dict() for e in self.errors],
        }


def _f(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _vec(v: Any, n: int) -> np.ndarray | None:
    try:
        arr = np.array([float(x) for x in v], float)
    except (TypeError, ValueError):
        return None
    return arr if arr.shape == (n,) and np.all(np.isfinite(arr)) else None


def _floats(v: Any, n: int) -> tuple[float, ...] | None:
    arr = _vec(v or (), n)
    return None if arr is None else tuple(float(x) for x in arr)


def _text(ds: Dataset, keyword: str) -> str:
    return str(ds.get(keyword, "") or "")


@dataclass(frozen=True, slots=True)
class SliceHeader:
    """What grouping, validation and the primary choice read of one instance's header.

    A few hundred bytes instead of the whole Dataset: pass 1 of an upload keeps one per file
    (:func:`SliceHeader.of`), so a many-series upload does not hold every file's header.
    A geometry value that is missing or malformed is None.
    """

    study_uid: str
    series_uid: str
    modality: str
    sop_class_uid: str
    sop_instance_uid: str
    frame_uid: str
    number_of_frames: int
    rows: float | None
    columns: float | None
    pixel_spacing: tuple[float, ...] | None  # 2 values
    orientation: tuple[float, ...] | None  # 6 values
    position: tuple[float, ...] | None  # 3 values
    image_type: tuple[str, ...]
    series_number: int | None
    description: str
    slice_thickness: float | None

    @classmethod
    def of(cls, ds: Dataset) -> SliceHeader:
        return cls(
            study_uid=_text(ds, "StudyInstanceUID"),
            series_uid=_text(ds, "SeriesInstanceUID"),
            modality=_text(ds, "Modality"),
            sop_class_uid=_text(ds, "SOPClassUID"),
            sop_instance_uid=str(ds.get("SOPInstanceUID", "")),
            frame_uid=_text(ds, "FrameOfReferenceUID"),
            number_of_frames=int(_f(ds.get("NumberOfFrames", 1)) or 1),
            rows=_f(ds.get("Rows", None)),
            columns=_f(ds.get("Columns", None)),
            pixel_spacing=_floats(ds.get("PixelSpacing", None), 2),
            orientation=_floats(ds.get("ImageOrientationPatient", None), 6),
            position=_floats(ds.get("ImagePositionPatient", None), 3),
            image_type=tuple(str(v) for v in (ds.get("ImageType", None) or ())),
            series_number=int(_f(ds.get("SeriesNumber", None)) or 0) or None,
            description=_text(ds, "SeriesDescription"),
            slice_thickness=_f(ds.get("SliceThickness", None)),
        )


# an instance's header: the Dataset (headers suffice) or what pass 1 kept of it
Header = Dataset | SliceHeader


def _header(h: Header) -> SliceHeader:
    return h if isinstance(h, SliceHeader) else SliceHeader.of(h)


def group_by_series(
    items: Iterable[tuple[str, Header]],
) -> dict[tuple[str, str], list[tuple[str, Header]]]:
    groups: dict[tuple[str, str], list[tuple[str, Header]]] = defaultdict(list)
    for label, ds in items:
        h = _header(ds)
        groups[(h.study_uid, h.series_uid)].append((label, ds))
    return dict(groups)


def _err(code: ErrorCode, msg: str, series: str, **kw: Any) -> IngestError:
    return IngestError(code, msg, series=series or None, **kw)


def _fmt_idx(idx: list[int], limit: int = 12) -> str:
    s = ", ".join(str(i) for i in idx[:limit])
    return s + (f" and {len(idx) - limit} more" if len(idx) > limit else "")


@dataclass
class _Geometry:
    """The per-slice geometry headers of a series, in upload order."""

    rows: list[int]
    columns: list[int]
    pixel_spacing: np.ndarray  # (n, 2)
    orientation: np.ndarray  # (n, 6)
    positions: list[tuple[int, np.ndarray]]  # (index in the upload, ImagePositionPatient)


def analyze_series(
    study_uid: str,
    series_uid: str,
    items: list[tuple[str, Header]],
    limits: SeriesLimits | None = None,
    patient_keys: dict[str, str] | None = None,
) -> SeriesInfo:
    """Sort one series along its normal and validate its headers (see module doc).

    ``SeriesInfo.datasets`` holds the given Datasets in slice order; given SliceHeaders
    (pass 1 of an upload), it is empty.
    """
    lim = limits or SeriesLimits()
    datasets = [d for _, d in items if isinstance(d, Dataset)]
    info = SeriesInfo(study_uid, series_uid, [lb for lb, _ in items], datasets)
    headers = [(lb, _header(d)) for lb, d in items]
    _describe(info, headers[0][1])
    _check_identity(info, headers, patient_keys)
    geometry = _read_geometry(info, headers)
    if geometry is None:
        return info
    _check_plane(info, geometry, lim)
    _check_dimensions(info, geometry, lim)
    normal = _slice_normal(info, geometry.orientation[0])
    if normal is None:
        return info
    proj, pos, order = _sort_along(info, items, geometry.positions, normal)
    _check_duplicate_instances(info, [headers[k][1].sop_instance_uid for k in order])
    if len(items) < 2:
        return info
    if not _check_steps(info, proj, lim):
        return info
    _check_tilt(info, proj, pos, normal, lim)
    return info


def _describe(info: SeriesInfo, first: SliceHeader) -> None:
    """Copy the descriptive headers of the series' first instance."""
    info.modality = first.modality
    info.frame_uid = first.frame_uid
    info.image_type = first.image_type
    info.series_number = first.series_number
    info.description = first.description
    info.slice_thickness = first.slice_thickness


def _check_identity(
    info: SeriesInfo, items: list[tuple[str, SliceHeader]], patient_keys: dict[str, str] | None
) -> None:
    """Modality, SOP class, frame of reference and patient: one of each, and CT."""
    errs, sid = info.errors, info.series_uid

    def distinct(keyword: str) -> set[str]:
        return {str(getattr(h, keyword)) for _, h in items}

    if len(distinct("modality")) > 1:
        errs.append(
            _err(ErrorCode.MIXED_SERIES, f"series mixes modalities ({len(items)} files)", sid)
        )
    elif info.modality != "CT":
        errs.append(
            _err(
                ErrorCode.WRONG_MODALITY,
                f"series modality is {info.modality or 'missing'}, not CT",
                sid,
            )
        )
    sops = distinct("sop_class_uid")
    if len(sops) > 1:
        errs.append(_err(ErrorCode.MIXED_SERIES, "series mixes SOP classes", sid))
    elif sops != {CT_IMAGE_STORAGE}:
        errs.append(
            _err(
                ErrorCode.UNSUPPORTED_SOP_CLASS,
                "series is not CT Image Storage (enhanced/multi-frame CT is not supported)",
                sid,
            )
        )
    if len(distinct("frame_uid")) > 1:
        errs.append(_err(ErrorCode.MIXED_SERIES, "series mixes frames of reference", sid))
    if patient_keys is not None and len({patient_keys.get(lb, "") for lb, _ in items}) > 1:
        errs.append(_err(ErrorCode.MIXED_SERIES, "series mixes patients", sid))
    if any(h.number_of_frames > 1 for _, h in items):
        errs.append(
            _err(ErrorCode.UNSUPPORTED_SOP_CLASS, "multi-frame images are not supported", sid)
        )


def _read_geometry(info: SeriesInfo, items: list[tuple[str, SliceHeader]]) -> _Geometry | None:
    """The geometry headers of every slice; None (and an error) when a file lacks one."""
    geometry = _Geometry([], [], np.empty((0, 2)), np.empty((0, 6)), [])
    spacing, orientation, missing = [], [], []
    for i, (label, h) in enumerate(items):
        r, c, ps, iop, ipp = h.rows, h.columns, h.pixel_spacing, h.orientation, h.position
        if r is None or c is None or ps is None or iop is None or ipp is None:
            missing.append(label)
            continue
        geometry.rows.append(int(r))
        geometry.columns.append(int(c))
        spacing.append(np.array(ps, float))
        orientation.append(np.array(iop, float))
        geometry.positions.append((i, np.array(ipp, float)))
    if missing:
        info.errors.append(
            _err(
                ErrorCode.INCONSISTENT_GEOMETRY,
                f"{len(missing)} file(s) lack Rows/Columns/PixelSpacing/orientation/position"
                f" (first: {missing[0]})",
                info.series_uid,
                file=missing[0],
            )
        )
        return None
    geometry.pixel_spacing = np.array(spacing)
    geometry.orientation = np.array(orientation)
    return geometry


def _check_plane(info: SeriesInfo, geometry: _Geometry, lim: SeriesLimits) -> None:
    """Rows, Columns, PixelSpacing and ImageOrientationPatient: equal on every slice."""
    errs, sid = info.errors, info.series_uid
    rows, cols = geometry.rows, geometry.columns
    info.rows, info.columns = rows[0], cols[0]
    sp = geometry.pixel_spacing
    info.pixel_spacing = (float(sp[0][0]), float(sp[0][1]))
    if len(set(rows)) > 1 or len(set(cols)) > 1:
        errs.append(_err(ErrorCode.INCONSISTENT_GEOMETRY, "slices differ in Rows/Columns", sid))
    if np.any(np.abs(sp - sp[0]) > lim.pixel_spacing_rel_tol * np.abs(sp[0]) + 1e-6) or np.any(
        sp <= 0
    ):
        errs.append(_err(ErrorCode.INCONSISTENT_GEOMETRY, "slices differ in PixelSpacing", sid))
    io_ = geometry.orientation
    if np.any(np.abs(io_ - io_[0]) > lim.orientation_tol):
        errs.append(
            _err(ErrorCode.INCONSISTENT_GEOMETRY, "slices differ in ImageOrientationPatient", sid)
        )


def _check_dimensions(info: SeriesInfo, geometry: _Geometry, lim: SeriesLimits) -> None:
    """Image size and slice count within the limits."""
    errs, sid = info.errors, info.series_uid
    rows, cols = geometry.rows, geometry.columns
    if max(rows) > lim.max_rows or max(cols) > lim.max_columns or min(rows) < 1 or min(cols) < 1:
        errs.append(
            _err(
                ErrorCode.ABSURD_DIMENSIONS,
                f"image size {max(rows)}x{max(cols)} is outside 1..{lim.max_rows}x{lim.max_columns}",
                sid,
            )
        )
    n = len(geometry.positions)
    if n > lim.max_slices or n < lim.min_slices:
        errs.append(
            _err(
                ErrorCode.ABSURD_DIMENSIONS,
                f"{n} slice(s); a series needs {lim.min_slices}..{lim.max_slices}",
                sid,
            )
        )


def _slice_normal(info: SeriesInfo, iop: np.ndarray) -> np.ndarray | None:
    """The unit normal ``row x col``; None (and an error) when the orientation is degenerate."""
    normal = np.cross(iop[:3], iop[3:])
    norm = np.linalg.norm(normal)
    if norm < 0.5:
        info.errors.append(
            _err(
                ErrorCode.INCONSISTENT_GEOMETRY,
                "ImageOrientationPatient is degenerate",
                info.series_uid,
            )
        )
        return None
    unit: np.ndarray = normal / norm
    info.orientation = tuple(float(x) for x in iop)
    info.normal = (float(unit[0]), float(unit[1]), float(unit[2]))
    return unit


def _sort_along(
    info: SeriesInfo,
    items: list[tuple[str, Header]],
    positions: list[tuple[int, np.ndarray]],
    normal: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Sort the slices by ``normal . ImagePositionPatient``.

    Returns (projections, positions, the upload index of each sorted slice).
    """
    proj = np.array([float(p @ normal) for _, p in positions])
    order = np.argsort(proj, kind="stable")
    index = [positions[k][0] for k in order]
    info.datasets = [d for d in (items[i][1] for i in index) if isinstance(d, Dataset)]
    info.labels = [items[i][0] for i in index]
    pos = np.array([positions[k][1] for k in order])
    info.origin = (float(pos[0][0]), float(pos[0][1]), float(pos[0][2]))
    return proj[order], pos, index


def _check_duplicate_instances(info: SeriesInfo, uids: list[str]) -> None:
    """The same SOPInstanceUID twice (``uids`` in slice order)."""
    if len(set(uids)) == len(uids):
        return
    seen: dict[str, int] = {}
    dup_idx = []
    for i, u in enumerate(uids):
        if u in seen:
            dup_idx += [seen[u], i]
        seen.setdefault(u, i)
    dup_idx = sorted(set(dup_idx))
    info.errors.append(
        _err(
            ErrorCode.DUPLICATE_SLICES,
            f"the same instance appears more than once (slices {_fmt_idx(dup_idx)})",
            info.series_uid,
            slices=tuple(dup_idx),
        )
    )


def _check_steps(info: SeriesInfo, proj: np.ndarray, lim: SeriesLimits) -> bool:
    """Duplicate, missing and uneven steps; False when all slices share one position."""
    steps = np.diff(proj)
    nonzero = steps[steps > lim.dup_tol_mm]
    if nonzero.size == 0:
        info.errors.append(
            _err(
                ErrorCode.DUPLICATE_SLICES,
                "all slices share one position",
                info.series_uid,
                slices=tuple(range(len(proj))),
            )
        )
        return False
    d = float(np.median(nonzero))
    info.slice_spacing = d
    _check_duplicate_positions(info, steps, lim)
    _check_gaps(info, steps, d)
    _check_uneven(info, steps, d, lim)
    return True


def _check_duplicate_positions(info: SeriesInfo, steps: np.ndarray, lim: SeriesLimits) -> None:
    """Steps below ``dup_tol_mm`` (unless duplicate instances were already reported)."""
    errs = info.errors
    dups = [i for i, s in enumerate(steps) if s <= lim.dup_tol_mm]
    if dups and not any(e.code == ErrorCode.DUPLICATE_SLICES for e in errs):
        idx = sorted({j for i in dups for j in (i, i + 1)})
        errs.append(
            _err(
                ErrorCode.DUPLICATE_SLICES,
                f"{len(dups)} duplicate slice position(s) (slices {_fmt_idx(idx)})",
                info.series_uid,
                slices=tuple(idx),
            )
        )


def _check_gaps(info: SeriesInfo, steps: np.ndarray, d: float) -> None:
    """Steps above 1.5 times the median spacing ``d``, with the estimated missing count."""
    gaps = [i for i, s in enumerate(steps) if s > 1.5 * d]
    if not gaps:
        return
    n_missing = int(sum(round(steps[i] / d) - 1 for i in gaps))
    info.errors.append(
        _err(
            ErrorCode.MISSING_SLICES,
            f"about {n_missing} slice(s) missing: gap(s) after slice(s) {_fmt_idx(gaps)}"
            f" (spacing {d:.3g} mm)",
            info.series_uid,
            slices=tuple(gaps),
            extra={"estimated_missing": n_missing},
        )
    )


def _check_uneven(info: SeriesInfo, steps: np.ndarray, d: float, lim: SeriesLimits) -> None:
    """Steps neither duplicate nor gap that are off the median spacing ``d``."""
    tol = max(lim.spacing_abs_tol_mm, lim.spacing_rel_tol * d)
    uneven = [
        i for i, s in enumerate(steps) if s > lim.dup_tol_mm and s <= 1.5 * d and abs(s - d) > tol
    ]
    if uneven:
        info.errors.append(
            _err(
                ErrorCode.INCONSISTENT_GEOMETRY,
                f"non-uniform slice spacing after slice(s) {_fmt_idx(uneven)} (median {d:.3g} mm)",
                info.series_uid,
                slices=tuple(uneven),
            )
        )


def _check_tilt(
    info: SeriesInfo, proj: np.ndarray, pos: np.ndarray, normal: np.ndarray, lim: SeriesLimits
) -> None:
    """The step direction and gantry tilt; refused beyond ``max_gantry_tilt_deg``."""
    info.step = info.normal
    span = pos[-1] - pos[0]
    along = float(span @ normal)  # > 0: sorted ascending, steps checked
    angle = float(np.degrees(np.arctan2(np.linalg.norm(span - along * normal), along)))
    if angle <= lim.tilt_tol_deg:
        return
    if angle > lim.max_gantry_tilt_deg:
        info.errors.append(
            _err(
                ErrorCode.GANTRY_TILT,
                f"gantry tilt of {angle:.1f} degrees exceeds the {lim.max_gantry_tilt_deg:g}"
                " degree limit",
                info.series_uid,
                extra={"tilt_deg": round(angle, 2)},
            )
        )
        return
    # every slice must lie on the line through the first one along the step
    shear = (span - along * normal) / along  # in-plane shift per mm along the normal
    expected = pos[0] + np.outer(proj - proj[0], normal + shear)
    off = np.linalg.norm(pos - expected, axis=1)
    tol = max(lim.spacing_abs_tol_mm, lim.spacing_rel_tol * info.slice_spacing)
    bad = [int(i) for i in np.flatnonzero(off > tol)]
    if bad:
        info.errors.append(
            _err(
                ErrorCode.INCONSISTENT_GEOMETRY,
                f"slice positions do not lie on one line (slices {_fmt_idx(bad)})",
                info.series_uid,
                slices=tuple(bad),
            )
        )
        return
    unit = span / float(np.linalg.norm(span))
    info.step = (float(unit[0]), float(unit[1]), float(unit[2]))
    info.gantry_tilt = round(angle, 2)


def assemble_series(
    items: Iterable[tuple[str, Header]],
    limits: SeriesLimits | None = None,
    patient_keys: dict[str, str] | None = None,
) -> list[SeriesInfo]:
    """Group instances into series and analyze each one."""
    out = []
    for (study, series), members in group_by_series(items).items():
        out.append(analyze_series(study, series, members, limits, patient_keys))
    return out


def choose_primary(
    series: list[SeriesInfo],
    *,
    override: str | None = None,
    override_alternatives: Iterable[str] = (),
    target_thickness_mm: float = 5.0,
) -> tuple[SeriesInfo | None, IngestError | None]:
    """Pick the primary axial series (rule in the module doc); return (series, error)."""
    if override:
        wanted = {override, *override_alternatives}
        for s in series:
            if s.series_uid in wanted:
                return s, None
        return None, IngestError(
            ErrorCode.PRIMARY_NOT_FOUND, "the requested primary series is not in the upload"
        )
    candidates = [s for s in series if s.ok and s.is_axial]
    if not candidates:
        return None, IngestError(
            ErrorCode.NO_PRIMARY_SERIES, "no valid axial CT series found in the upload"
        )

    def key(s: SeriesInfo) -> tuple[bool, float, int, int, str]:
        thick = s.slice_thickness if s.slice_thickness else s.slice_spacing
        return (
            not s.is_original_primary,
            round(abs((thick or 0.0) - target_thickness_mm), 3),
            -s.n_slices,
            s.series_number if s.series_number is not None else 1 << 30,
            s.series_uid,
        )

    return min(candidates, key=key), None


def load_hu_volume(info: SeriesInfo, *, dtype: str = "auto") -> np.ndarray:
    """Decode all slices (sorted) and rescale to HU; array shape (slices, rows, columns).

    ``dtype`` "auto" gives int16 when every RescaleSlope is integral and the HU fit, otherwise
    float32.  Raises DicomIngestError(undecodable_pixels) naming the first bad file.
    """
    volume = HUVolume(info, dtype=dtype)
    for k, ds in enumerate(info.datasets):
        volume.add(k, ds)
    return volume.array


class HUVolume:
    """A series' HU volume, filled one slice at a time (:func:`load_hu_volume`'s rules).

    The array is allocated once; beside it one decoded slice is held at a time (the decoded
    arrays are not cached on the datasets), so a caller that stores each file and lets its
    pixel data go as it adds the slice holds the series about once. :meth:`to_sitk` hands the
    volume to SimpleITK through a raw file, so the array is let go before SimpleITK reads its
    copy (``GetImageFromArray`` would hold both).
    """

    def __init__(self, info: SeriesInfo, *, dtype: str = "auto"):
        self.info, self.dtype = info, dtype
        self.rescale = [
            (_f(ds.get("RescaleSlope", 1)) or 1.0, _f(ds.get("RescaleIntercept", 0)) or 0.0)
            for ds in info.datasets
        ]
        integral = all(s == int(s) and i == int(i) for s, i in self.rescale)
        as_int16 = dtype == "int16" or (dtype == "auto" and integral)
        shape = (len(info.datasets), info.rows, info.columns)
        self.array: np.ndarray = np.empty(shape, dtype=np.int16 if as_int16 else np.float32)

    def add(self, k: int, ds: Dataset) -> None:
        """Decode slice ``k`` (``ds``, in slice order). Raises DicomIngestError."""
        slope, intercept = self.rescale[k]
        hu = _decode(self.info.labels[k], ds, self.info).astype(np.float32)
        hu *= np.float32(slope)  # in place: one float slice at a time
        hu += np.float32(intercept)
        vol = self.array
        if (
            vol.dtype == np.int16
            and self.dtype == "auto"
            and (hu.min() < -32768 or hu.max() > 32767)
        ):
            vol = self.array = vol.astype(np.float32)  # exact: the slices so far are integral
        vol[k] = np.rint(hu, out=hu) if vol.dtype == np.int16 else hu

    def to_sitk(self, scratch: str | Path) -> sitk.Image:
        """The volume as :func:`build_sitk_image` makes it; the array is gone afterwards.

        ``scratch`` is a private temporary folder the caller removes.
        """
        import SimpleITK as sitk

        raw = Path(scratch) / "volume.raw"
        slices, rows, columns = self.array.shape
        element = "MET_SHORT" if self.array.dtype == np.int16 else "MET_FLOAT"
        _write_raw(self.array, raw)
        self.array = np.empty(0, dtype=self.array.dtype)  # let the volume go (no view is left)
        header = Path(scratch) / "volume.mhd"
        header.write_text(
            "ObjectType = Image\nNDims = 3\n"
            f"DimSize = {columns} {rows} {slices}\n"
            f"ElementType = {element}\nElementByteOrderMSB = False\n"
            f"ElementDataFile = {raw.name}\n"
        )
        image = sitk.ReadImage(str(header))
        raw.unlink()
        _set_geometry(image, self.info)
        return image


def _write_raw(array: np.ndarray, path: Path) -> None:
    """The array's values, little endian, slice by slice."""
    with open(path, "wb") as out:
        for plane in array:
            out.write(plane.astype(plane.dtype.newbyteorder("<"), copy=False).tobytes())


def _decode(label: str, ds: Dataset, info: SeriesInfo) -> np.ndarray:
    """One slice's stored values (not cached on the dataset)."""
    from pydicom.pixels import pixel_array

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr: np.ndarray = pixel_array(ds)
    except Exception as exc:
        raise DicomIngestError(
            IngestError(
                ErrorCode.UNDECODABLE_PIXELS,
                f"{label}: pixel data cannot be decoded ({type(exc).__name__})",
                file=label,
                series=info.series_uid,
            )
        ) from None
    if arr.shape != (info.rows, info.columns):
        raise DicomIngestError(
            IngestError(
                ErrorCode.UNDECODABLE_PIXELS,
                f"{label}: decoded pixel array has shape {arr.shape}, expected"
                f" ({info.rows}, {info.columns})",
                file=label,
                series=info.series_uid,
            )
        )
    return arr


def build_sitk_image(info: SeriesInfo, volume: np.ndarray | None = None) -> sitk.Image:
    """SimpleITK image in HU with DICOM (LPS) origin, spacing and direction."""
    import SimpleITK as sitk

    vol = load_hu_volume(info) if volume is None else volume
    img = sitk.GetImageFromArray(vol)
    _set_geometry(img, info)
    return img


def volume_suffix(info: SeriesInfo) -> str:
    """The volume's file suffix: NIfTI, or MetaImage for a sheared (tilted) grid."""
    return ".mha" if info.gantry_tilt else ".nii.gz"


def _set_geometry(img: sitk.Image, info: SeriesInfo) -> None:
    """Origin, spacing and direction of the acquired grid (sheared when tilted; module doc)."""
    row_spacing, col_spacing = info.pixel_spacing
    r = np.asarray(info.orientation[:3], float)
    c = np.asarray(info.orientation[3:], float)
    n = np.asarray(info.normal, float)
    step, dz = n, info.slice_spacing or 1.0
    if info.gantry_tilt:
        step = np.asarray(info.step, float)
        dz = info.slice_spacing / float(step @ n)  # the distance between slice positions
    img.SetSpacing((col_spacing, row_spacing, dz))
    img.SetOrigin(info.origin)
    direction = np.column_stack([r, c, step])
    img.SetDirection(tuple(float(x) for x in direction.ravel()))


def write_nifti(image: sitk.Image, path: str | Path) -> Path:
    """Write a SimpleITK image as NIfTI (``.nii``, ``.nii.gz``) or MetaImage (``.mha``,
    compressed; it keeps a sheared direction, see :func:`volume_suffix`); returns the path."""
    import SimpleITK as sitk

    path = Path(path)
    sitk.WriteImage(image, str(path), useCompression=str(path).endswith((".gz", ".mha")))
    return path
