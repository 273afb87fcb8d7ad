"""The one writer of synthetic CT Image Storage series (pydicom only, no Django).

    datasets = ct_slices(volume_hu, geometry, uids, tags={...})   # one Dataset per slice
    paths = write_slices(datasets, folder)                         # IM0001.dcm, IM0002.dcm, ...
    data = dataset_bytes(datasets[0])                              # a Part 10 file in memory

``volume_hu`` is (slices, rows, columns) in HU; slice ``k`` lies at
``geometry.origin + k * geometry.slice_spacing * step``: the step is the normal (row x column
direction) unless ``geometry.step`` gives another one (a tilted gantry, a sheared grid).
Everything synthetic that writes CT goes through here: the phantom generator
(``phantoms.dicom_io``), the DICOM test helpers (``tests/cases/dicom/dicom_synth.py``), the
viewer's development series (``frontend/dev/make_series.py``) and the live-server benches
(``bench/dicomweb/harness.py``).

The writer sets the attributes that follow from its inputs (:data:`DERIVED`: UIDs, geometry,
the image pixel module, rescale) and may not be given them in ``tags``; it also writes a few
defaults that ``tags``/``per_slice`` may replace or drop (value ``None``): Modality ``CT``,
RescaleType ``HU``, InstanceNumber ``k + 1``, SliceLocation (the position along the
normal) and SliceThickness.  Everything descriptive (patient, study, dates, scanner,
window, ImageType, character set) comes from the caller.

Decimal strings are written with at most 6 decimals, trailing zeros dropped.  Nothing here
reads the clock or draws random numbers: the same inputs give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian

from .uids import IMPLEMENTATION_UID, _uid, sop_instance_uid

Orientation = tuple[float, float, float, float, float, float]
Tags = Mapping[str, object]  # DICOM keyword -> value as pydicom takes it; None: leave out

AXIAL: Final[Orientation] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
IMPLEMENTATION_VERSION_NAME: Final = "RS_PHANTOM_1"

# Attributes that follow from the volume, geometry, encoding and UIDs.
DERIVED: Final = frozenset(
    {
        "SOPClassUID",
        "SOPInstanceUID",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "FrameOfReferenceUID",
        "ImagePositionPatient",
        "ImageOrientationPatient",
        "PixelSpacing",
        "Rows",
        "Columns",
        "SamplesPerPixel",
        "PhotometricInterpretation",
        "BitsAllocated",
        "BitsStored",
        "HighBit",
        "PixelRepresentation",
        "RescaleIntercept",
        "RescaleSlope",
        "PixelData",
    }
)


def ds_text(value: float) -> str:
    """A DICOM decimal string: at most 6 decimals, no trailing zeros, no ``-0``."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    text = "0" if text == "-0" else text
    if len(text) > 16:
        raise ValueError(f"{value!r} does not fit a decimal string (16 characters)")
    return text


@dataclass(frozen=True)
class Geometry:
    """Where a (slices, rows, columns) volume lies in patient space (LPS, mm)."""

    origin: tuple[float, float, float]  # ImagePositionPatient of slice 0 (its first pixel)
    pixel_spacing: tuple[float, float]  # PixelSpacing order: (between rows, between columns)
    slice_spacing: float  # slice k to k + 1, along the step (by default row x column)
    orientation: Orientation = AXIAL  # row, then column direction cosines (unit, orthogonal)
    slice_thickness: float | None = None  # SliceThickness; None: slice_spacing
    # unit direction from slice k to k + 1; None: the normal. Another direction makes a tilted
    # gantry's series (positions along the table while the image plane is tilted): a sheared grid
    step: tuple[float, float, float] | None = None

    def normal(self) -> npt.NDArray[np.float64]:
        o = np.asarray(self.orientation, dtype=np.float64)
        return np.cross(o[:3], o[3:])

    def position(self, k: int) -> npt.NDArray[np.float64]:
        """ImagePositionPatient of slice ``k``."""
        step = self.normal() if self.step is None else np.asarray(self.step, dtype=np.float64)
        return np.asarray(self.origin, dtype=np.float64) + step * (k * self.slice_spacing)


@dataclass(frozen=True)
class PixelEncoding:
    """Stored value = round((HU - intercept) / slope), clipped to what ``bits_stored`` holds."""

    bits_stored: int = 12
    signed: bool = False
    intercept: float = -1024.0
    slope: float = 1.0

    def __post_init__(self) -> None:
        if not 1 <= self.bits_stored <= 16:
            raise ValueError("bits_stored must be in 1..16 (16 bits allocated)")
        if self.slope == 0:
            raise ValueError("slope must not be 0")

    def encode(self, hu: npt.NDArray[np.generic]) -> bytes:
        bits = self.bits_stored
        lo, hi = (
            (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if self.signed else (0, (1 << bits) - 1)
        )
        values = np.rint((hu.astype(np.float64) - self.intercept) / self.slope)
        return np.clip(values, lo, hi).astype("<i2" if self.signed else "<u2").tobytes()


UNSIGNED_12: Final = PixelEncoding()  # uint16, 12 bits stored, intercept -1024 (most scanners)
SIGNED_16: Final = PixelEncoding(bits_stored=16, signed=True)


@dataclass(frozen=True)
class SeriesUIDs:
    study: str
    series: str
    frame_of_reference: str
    instances: Sequence[str] = ()  # SOPInstanceUID per slice; (): derived from series and k

    @classmethod
    def derived(cls, *key: object) -> SeriesUIDs:
        """Study, series and frame of reference UIDs hashed from ``key`` (reproducible)."""
        return cls(_uid(*key, "study"), _uid(*key, "series"), _uid(*key, "frame"))

    def instance(self, k: int) -> str:
        return self.instances[k] if self.instances else sop_instance_uid(self.series, k)


@dataclass(frozen=True)
class PrivateBlock:
    """A private block: ``elements`` maps the element offset (0x10-0xFF) to (VR, value)."""

    group: int
    creator: str
    elements: Mapping[int, tuple[str, object]]


def _check_tags(tags: Tags, where: str) -> None:
    for keyword in tags:
        if tag_for_keyword(keyword) is None:
            raise ValueError(f"{where}: {keyword!r} is not a DICOM keyword")
        if keyword in DERIVED:
            raise ValueError(f"{where}: {keyword} is set by the writer (volume, geometry, UIDs)")


def _apply(ds: Dataset, tags: Tags) -> None:
    for keyword, value in tags.items():
        if value is None:
            if keyword in ds:
                delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)


def ct_slices(
    volume_hu: npt.ArrayLike,
    geometry: Geometry,
    uids: SeriesUIDs,
    *,
    tags: Tags | None = None,
    per_slice: Sequence[Tags] = (),
    private: Sequence[PrivateBlock] = (),
    encoding: PixelEncoding = UNSIGNED_12,
    transfer_syntax: str = ExplicitVRLittleEndian,
) -> list[Dataset]:
    """One CT Image Storage dataset (file meta included) per slice of ``volume_hu``.

    ``tags`` go into every slice, ``per_slice[k]`` (if given, one mapping per slice) into
    slice ``k`` after them.  ``transfer_syntax``: explicit VR little endian or a compressed
    syntax that pydicom can encode (RLE Lossless natively; JPEG-LS needs pyjpegls).
    """
    volume = np.asarray(volume_hu)
    if volume.ndim != 3 or 0 in volume.shape:
        raise ValueError(f"volume must be (slices, rows, columns), got shape {volume.shape}")
    n, rows, cols = (int(v) for v in volume.shape)
    if per_slice and len(per_slice) != n:
        raise ValueError(f"per_slice has {len(per_slice)} entries for {n} slices")
    if uids.instances and len(uids.instances) != n:
        raise ValueError(f"{len(uids.instances)} SOP Instance UIDs for {n} slices")
    syntax = UID(transfer_syntax)
    if syntax != ExplicitVRLittleEndian and not syntax.is_compressed:
        raise ValueError(
            f"transfer syntax {syntax} is neither explicit little endian nor compressed"
        )
    shared = dict(tags or {})
    _check_tags(shared, "tags")
    for k, extra in enumerate(per_slice):
        _check_tags(extra, f"per_slice[{k}]")
    normal = geometry.normal()
    thickness = (
        geometry.slice_spacing if geometry.slice_thickness is None else geometry.slice_thickness
    )
    out = []
    for k in range(n):
        sop = uids.instance(k)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = UID(sop)
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = UID(IMPLEMENTATION_UID)
        meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = sop
        ds.StudyInstanceUID = uids.study
        ds.SeriesInstanceUID = uids.series
        ds.FrameOfReferenceUID = uids.frame_of_reference
        ds.Modality = "CT"
        ds.InstanceNumber = str(k + 1)
        position = geometry.position(k)
        ds.ImagePositionPatient = [ds_text(float(v)) for v in position]
        ds.ImageOrientationPatient = [ds_text(v) for v in geometry.orientation]
        ds.SliceLocation = ds_text(float(position @ normal))
        ds.SliceThickness = ds_text(thickness)
        ds.PixelSpacing = [ds_text(v) for v in geometry.pixel_spacing]
        ds.Rows, ds.Columns = rows, cols
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = 16
        ds.BitsStored = encoding.bits_stored
        ds.HighBit = encoding.bits_stored - 1
        ds.PixelRepresentation = int(encoding.signed)
        ds.RescaleIntercept = ds_text(encoding.intercept)
        ds.RescaleSlope = ds_text(encoding.slope)
        ds.RescaleType = "HU"
        _apply(ds, shared)
        if per_slice:
            _apply(ds, per_slice[k])
        for block in private:
            pb = ds.private_block(block.group, block.creator, create=True)
            for offset, (vr, value) in block.elements.items():
                pb.add_new(offset, vr, value)
        ds.PixelData = encoding.encode(volume[k])
        if syntax != ExplicitVRLittleEndian:
            ds.compress(syntax, generate_instance_uid=False)
        out.append(ds)
    return out


def dataset_bytes(ds: Dataset) -> bytes:
    """``ds`` as a DICOM Part 10 file (preamble, file meta)."""
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def write_slices(
    datasets: Iterable[Dataset], folder: Path, names: Sequence[str] | None = None
) -> list[Path]:
    """Write each dataset to ``folder`` as ``names[i]`` (default IM0001.dcm, IM0002.dcm, ...)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, ds in enumerate(datasets):
        path = folder / (names[i] if names is not None else f"IM{i + 1:04d}.dcm")
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths
