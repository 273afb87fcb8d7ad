"""Small synthetic CT series for the DICOM core tests and the bench, and PHI planting.

The slices are written by the project's one synthetic-CT writer
(:mod:`phantoms.dicom_writer`) but hold no anatomy (see ``phantoms`` for that): they are
tiny and fast, get fresh random UIDs on every call, and the helpers below can plant PHI
markers in every text attribute of the Annex E table.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import generate_uid

from phantoms.dicom_writer import (
    Geometry,
    PixelEncoding,
    SeriesUIDs,
    ct_slices,
    dataset_bytes,
    write_slices,
)

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
TEXT_VRS = {"SH", "LO", "ST", "LT", "UT", "UC", "PN", "CS", "AE"}
_VR_MAX = {"SH": 16, "CS": 16, "AE": 16, "LO": 64, "PN": 64}


def make_ct_series(
    n: int = 6,
    *,
    rows: int = 16,
    cols: int = 16,
    spacing: float = 5.0,
    pixel_spacing: float = 0.8,
    patient_id: str = "PID-0001",
    patient_name: str = "DOE^JANE",
    study_uid: str | None = None,
    series_uid: str | None = None,
    frame_uid: str | None = None,
    study_date: str = "20230115",
    orientation=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
    origin=(-6.4, -6.4, 0.0),
    image_type=("ORIGINAL", "PRIMARY", "AXIAL"),
    slice_thickness: float | None = None,
    shuffle_seed: int | None = 1,
    intercept: float = -1024.0,
    slope: float = 1.0,
    step: tuple[float, float, float] | None = None,
) -> list[Dataset]:
    """A valid CT Image Storage series (one Dataset per slice, file meta included): signed
    16-bit pixels holding :func:`slice_hu`, in random order unless ``shuffle_seed`` is None.
    ``step``: the unit direction from slice to slice (None: the normal; else a tilted gantry)."""
    uids = SeriesUIDs(
        study_uid or generate_uid(),
        series_uid or generate_uid(),
        frame_uid or generate_uid(),
        instances=[generate_uid() for _ in range(n)],
    )
    tags = {
        "SpecificCharacterSet": "ISO_IR 100",
        "ImageType": list(image_type),
        "StudyDate": study_date,
        "SeriesDate": study_date,
        "ContentDate": study_date,
        "AcquisitionDate": study_date,
        "StudyTime": "101500",
        "SeriesTime": "101600",
        "ContentTime": "101700",
        "AccessionNumber": "ACC12345",
        "Manufacturer": "SYNTH",
        "ReferringPhysicianName": "REF^DOC",
        "PatientName": patient_name,
        "PatientID": patient_id,
        "PatientBirthDate": "19600101",
        "PatientSex": "F",
        "KVP": "120",
        "BodyPartExamined": "HEAD",
        "StudyID": "1",
        "SeriesNumber": "2",
        "AcquisitionNumber": "1",
        "PatientPosition": "HFS",
        "PositionReferenceIndicator": "",
        "WindowCenter": "40",
        "WindowWidth": "80",
    }
    geometry = Geometry(
        origin=tuple(float(v) for v in origin),
        pixel_spacing=(pixel_spacing, pixel_spacing),
        slice_spacing=spacing,
        orientation=tuple(float(v) for v in orientation),
        slice_thickness=slice_thickness,
        step=step,
    )
    volume = np.stack([slice_hu(i, rows, cols) for i in range(n)])
    encoding = PixelEncoding(bits_stored=16, signed=True, intercept=intercept, slope=slope)
    out = ct_slices(volume, geometry, uids, tags=tags, encoding=encoding)
    if shuffle_seed is not None:
        rng = np.random.default_rng(shuffle_seed)
        out = [out[j] for j in rng.permutation(len(out))]
    return out


def slice_hu(i: int, rows: int, cols: int) -> np.ndarray:
    """Deterministic HU content: value depends on slice index and position."""
    yy, xx = np.mgrid[0:rows, 0:cols]
    return (-1000 + 10 * i + (xx + 2 * yy) % 50).astype(np.float64)


def to_bytes(ds: Dataset) -> bytes:
    return dataset_bytes(ds)


def write_series(datasets: Sequence[Dataset], folder: Path, prefix: str = "IM") -> list[Path]:
    """``folder/IM0000.dcm`` ... in list order."""
    return write_slices(datasets, folder, [f"{prefix}{i:04d}.dcm" for i in range(len(datasets))])


def table_text_tags(rows) -> Iterator[tuple[int, str]]:
    """(tag, VR) for each Annex E row naming a single standard attribute with a text VR."""
    for r in rows:
        if r.is_pattern:
            continue
        t = r.tag_int
        if t >> 16 in (0x0000, 0x0002, 0xFFFA, 0xFFFC):
            continue
        try:
            vr = dictionary_VR(t)
        except KeyError:
            continue
        if vr in TEXT_VRS:
            yield t, vr


def marker(i: int, vr: str, salt: str = "") -> str:
    """A distinctive value that fits the VR (no vocabulary word can match it)."""
    m = f"QZX{salt}{i:04d}PHI"
    return m[: _VR_MAX.get(vr, 64)]


def plant_phi(ds: Dataset, rows, *, salt: str = "", nested: bool = True) -> list[str]:
    """Fill every text attribute of the table in ``ds`` (and a nested item, a private block,
    an overlay and the file meta) with unique markers; return the markers."""
    markers: list[str] = []
    i = 0

    def fill(target: Dataset, mark_salt: str):
        nonlocal i
        for t, vr in table_text_tags(rows):
            if t in (0x00100010, 0x00100020, 0x0008103E) and target is ds:
                continue  # planted below
            m = marker(i, vr, mark_salt)
            i += 1
            if vr == "CS":
                m = m.upper()
            if vr == "PN":
                m = m[:30] + "^" + m[:30]
            target.add_new(t, vr, m)
            markers.append(m.split("^")[0])

    fill(ds, salt + "T")
    ds.PatientName = f"QZX{salt}NAME^PHI"
    ds.PatientID = f"QZX{salt}PIDPHI"
    markers += [f"QZX{salt}NAME", f"QZX{salt}PIDPHI"]
    if nested:
        item = Dataset()
        fill(item, salt + "N")
        item.ReferencedSOPClassUID = CT_IMAGE_STORAGE
        item.ReferencedSOPInstanceUID = ds.SOPInstanceUID
        ds.ReferencedImageSequence = DicomSequence([item])
        # descriptors with vocabulary words around a marker
        ds.SeriesDescription = f"CT HEAD QZX{salt}SDESC AXIAL 5MM"
        markers.append(f"QZX{salt}SDESC")
    # private block holding the patient ID
    block = ds.private_block(0x0009, "ACME PRIVATE", create=True)
    block.add_new(0x10, "LO", f"QZX{salt}PRIV")
    markers.append(f"QZX{salt}PRIV")
    # overlay plane with comments
    ds.add_new(0x60000010, "US", 16)
    ds.add_new(0x60000011, "US", 16)
    ds.add_new(0x60000040, "CS", "G")
    ds.add_new(0x60000050, "SS", [1, 1])
    ds.add_new(0x60000100, "US", 1)
    ds.add_new(0x60000102, "US", 0)
    ds.add_new(0x60004000, "LT", f"QZX{salt}OVLY")
    ds.add_new(0x60003000, "OW", b"\x00" * 32)
    markers.append(f"QZX{salt}OVLY")
    # file meta
    ds.file_meta.SourceApplicationEntityTitle = f"QZX{salt}AET"[:16]
    markers.append(f"QZX{salt}AET"[:16])
    return markers


def keyword(t: int) -> str:
    return keyword_for_tag(t) or hex(t)
