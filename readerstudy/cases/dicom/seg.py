"""Binary DICOM Segmentations (SEG) turned into a mask on a stored series' grid.

A hospital's SEG references the *original* Study / Series / SOP Instance / Frame of Reference
UIDs; the stored series carries their keyed remaps (:class:`~.uids.UIDRemapper`). A SEG made on
the de-identified images (e.g. in a viewer reading our DICOMweb) references the stored UIDs
directly; both are accepted. Every frame must lie on a slice of the series: same orientation,
pixel spacing, rows and columns, and an ImagePositionPatient within ``tolerance_mm`` of a
slice's; a frame that names its source image must name the slice at that position.

The SEG itself carries identifying header data: it is only read here, never kept. Error
messages name no value read from it other than standard codes (SOP class, segmentation type)
and numbers (frame, segment, sizes, distances).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError

SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"

__all__ = ["SEGMENTATION_STORAGE", "SegError", "SeriesGrid", "is_dicom_file", "seg_to_mask"]


class SegError(ValueError):
    """The SEG cannot be used as a mask of this series (the message says why)."""


@dataclass(frozen=True)
class SeriesGrid:
    """Geometry and identity of a stored (de-identified) series, slices in stored order."""

    study_uid: str
    series_uid: str
    frame_of_reference_uid: str
    rows: int
    columns: int
    pixel_spacing: tuple[float, float]  # (row spacing, column spacing), mm
    orientation: tuple[float, ...]  # ImageOrientationPatient, 6 values
    positions: np.ndarray  # (slices, 3) ImagePositionPatient of each slice, mm
    sop_uids: tuple[str, ...]  # SOP Instance UID of each slice

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self.sop_uids), self.rows, self.columns)


def is_dicom_file(path: Path) -> bool:
    """Part 10 file (preamble + ``DICM``)."""
    with open(path, "rb") as handle:
        head = handle.read(132)
    return len(head) == 132 and head[128:] == b"DICM"


def _first(item: Any, *keywords: str) -> Any:
    """``item.K1[0].K2[0]...`` or None."""
    for keyword in keywords:
        value = getattr(item, keyword, None) if item is not None else None
        if value is None:
            return None
        if isinstance(value, pydicom.Sequence):
            if not value:
                return None
            value = value[0]
        item = value
    return item


def _functional(ds: pydicom.Dataset, frame_item: pydicom.Dataset, *path: str) -> Any:
    """Per-frame attribute, falling back to the shared functional groups."""
    value = _first(frame_item, *path)
    if value is None:
        value = _first(_first(ds, "SharedFunctionalGroupsSequence"), *path)
    return value


def seg_to_mask(
    source: bytes | Path | pydicom.Dataset,
    grid: SeriesGrid,
    remap: Callable[[str], str],
    *,
    segment: int | None = None,
    tolerance_mm: float = 0.05,
) -> np.ndarray:
    """The selected segment of a binary SEG as a uint8 array of ``grid.shape`` (0/1).

    ``segment`` is the SegmentNumber to use; without it the SEG must hold exactly one segment.
    Raises :class:`SegError` naming the first problem found.
    """
    ds = _read(source)
    _check_kind(ds)
    _check_references(ds, grid, remap)
    _check_frame_size(ds, grid)
    segment = _chosen_segment(ds, segment)
    frames, pixels = _frames(ds, grid)

    orientation = np.asarray(grid.orientation, float)
    normal = np.cross(orientation[:3], orientation[3:])
    offsets = grid.positions @ normal  # each slice's position along the normal
    mask = np.zeros(grid.shape, dtype=np.uint8)
    for number, (item, plane) in enumerate(zip(frames, pixels, strict=True), start=1):
        if _frame_segment(ds, item, number) != segment:
            continue
        _check_frame_plane(ds, item, number, grid, orientation)
        k = _frame_slice(ds, item, number, grid, offsets, normal, tolerance_mm)
        _check_source_image(ds, item, number, k, grid, remap)
        mask[k] |= (plane != 0).astype(np.uint8)
    return mask


def _same(uid: object, target: str, remap: Callable[[str], str]) -> bool:
    """Whether a UID read from the SEG is ``target`` itself or its original."""
    uid = str(uid or "")
    return bool(uid) and (uid == target or remap(uid) == target)


def _check_kind(ds: pydicom.Dataset) -> None:
    """A binary Segmentation Storage object."""
    if str(ds.get("SOPClassUID", "")) != SEGMENTATION_STORAGE:
        raise SegError(
            f"not a DICOM Segmentation (SOP class {ds.get('SOPClassUID', 'missing')},"
            f" expected {SEGMENTATION_STORAGE})"
        )
    seg_type = str(ds.get("SegmentationType", ""))
    if seg_type != "BINARY":
        raise SegError(f"segmentation type is {seg_type or 'missing'}; only BINARY is accepted")


def _check_references(ds: pydicom.Dataset, grid: SeriesGrid, remap: Callable[[str], str]) -> None:
    """The SEG names the series' study, the series itself and its frame of reference."""
    if not _same(ds.get("StudyInstanceUID"), grid.study_uid, remap):
        raise SegError("the SEG belongs to another study than the case's series")
    referenced = [item.get("SeriesInstanceUID") for item in ds.get("ReferencedSeriesSequence", [])]
    if not referenced:
        raise SegError("the SEG names no referenced series (ReferencedSeriesSequence is empty)")
    if not any(_same(uid, grid.series_uid, remap) for uid in referenced):
        raise SegError(
            f"the SEG references {len(referenced)} series, none of them the case's series"
        )
    frame_of_reference = ds.get("FrameOfReferenceUID")
    if (
        grid.frame_of_reference_uid
        and frame_of_reference is not None
        and not _same(frame_of_reference, grid.frame_of_reference_uid, remap)
    ):
        raise SegError("the SEG's frame of reference is not the series' frame of reference")


def _check_frame_size(ds: pydicom.Dataset, grid: SeriesGrid) -> None:
    rows, columns = int(ds.get("Rows", 0)), int(ds.get("Columns", 0))
    if (rows, columns) != (grid.rows, grid.columns):
        raise SegError(
            f"SEG frames are {rows} x {columns} pixels, the series' slices"
            f" {grid.rows} x {grid.columns}"
        )


def _chosen_segment(ds: pydicom.Dataset, segment: int | None) -> int:
    """The requested SegmentNumber, or the only one the SEG holds."""
    numbers = [int(item.SegmentNumber) for item in ds.get("SegmentSequence", [])]
    if not numbers:
        raise SegError("the SEG describes no segment (SegmentSequence is empty)")
    if segment is None:
        if len(numbers) != 1:
            raise SegError(
                f"the SEG holds {len(numbers)} segments (numbers"
                f" {', '.join(map(str, sorted(numbers)))}): say which one is the hematoma"
            )
        return numbers[0]
    if segment not in numbers:
        raise SegError(
            f"the SEG has no segment {segment} (it has {', '.join(map(str, sorted(numbers)))})"
        )
    return segment


def _frames(ds: pydicom.Dataset, grid: SeriesGrid) -> tuple[list[pydicom.Dataset], np.ndarray]:
    """The per-frame functional groups and the decoded frames, shape (frames, rows, columns)."""
    frames = ds.get("PerFrameFunctionalGroupsSequence", [])
    n_frames = int(ds.get("NumberOfFrames", 1) or 1)
    if len(frames) != n_frames:
        raise SegError(
            f"the SEG has {n_frames} frames but {len(frames)} per-frame functional groups"
        )
    try:
        pixels = ds.pixel_array
    except Exception as exc:  # pydicom raises many types for bad pixel data
        raise SegError(f"the SEG's pixel data cannot be decoded ({type(exc).__name__})") from None
    return frames, pixels.reshape(n_frames, grid.rows, grid.columns)


def _frame_segment(ds: pydicom.Dataset, item: pydicom.Dataset, number: int) -> int:
    value = _functional(ds, item, "SegmentIdentificationSequence", "ReferencedSegmentNumber")
    if value is None:
        raise SegError(f"frame {number} does not say which segment it belongs to")
    return int(value)


def _check_frame_plane(
    ds: pydicom.Dataset,
    item: pydicom.Dataset,
    number: int,
    grid: SeriesGrid,
    orientation: np.ndarray,
) -> None:
    """The frame has the series' orientation and pixel spacing."""
    iop = _functional(ds, item, "PlaneOrientationSequence", "ImageOrientationPatient")
    if iop is None or not np.allclose([float(v) for v in iop], orientation, atol=1e-3):
        raise SegError(f"frame {number}: orientation differs from the series'")
    spacing = _functional(ds, item, "PixelMeasuresSequence", "PixelSpacing")
    if spacing is None or not np.allclose(
        [float(v) for v in spacing], grid.pixel_spacing, rtol=1e-3, atol=1e-4
    ):
        raise SegError(f"frame {number}: pixel spacing differs from the series'")


def _frame_slice(
    ds: pydicom.Dataset,
    item: pydicom.Dataset,
    number: int,
    grid: SeriesGrid,
    offsets: np.ndarray,
    normal: np.ndarray,
    tolerance_mm: float,
) -> int:
    """The index of the slice the frame lies on (within ``tolerance_mm``)."""
    ipp = _functional(ds, item, "PlanePositionSequence", "ImagePositionPatient")
    if ipp is None:
        raise SegError(f"frame {number} has no position (ImagePositionPatient)")
    position = np.array([float(v) for v in ipp])
    k = int(np.argmin(np.abs(offsets - position @ normal)))
    distance = float(np.linalg.norm(grid.positions[k] - position))
    if distance > tolerance_mm:
        raise SegError(
            f"frame {number} lies on no slice of the series (nearest slice, {k + 1},"
            f" is {distance:.2f} mm away)"
        )
    return k


def _check_source_image(
    ds: pydicom.Dataset,
    item: pydicom.Dataset,
    number: int,
    k: int,
    grid: SeriesGrid,
    remap: Callable[[str], str],
) -> None:
    """A frame that names its source image names slice ``k``."""
    source_uid = _functional(
        ds, item, "DerivationImageSequence", "SourceImageSequence", "ReferencedSOPInstanceUID"
    )
    if source_uid is None or _same(source_uid, grid.sop_uids[k], remap):
        return
    sop_index = {uid: i for i, uid in enumerate(grid.sop_uids)}
    other = sop_index.get(str(source_uid), sop_index.get(remap(str(source_uid))))
    where = f"slice {other + 1}" if other is not None else "no slice of the series"
    raise SegError(f"frame {number} lies on slice {k + 1} but its source image is {where}")


def _read(source: bytes | Path | pydicom.Dataset) -> pydicom.Dataset:
    if isinstance(source, pydicom.Dataset):
        return source
    try:
        if isinstance(source, bytes):
            return pydicom.dcmread(io.BytesIO(source))
        return pydicom.dcmread(str(source))
    except (InvalidDicomError, EOFError, OSError, ValueError, TypeError):
        raise SegError("not a readable DICOM file") from None
