"""Crafted uploads: valid-but-unusual and hostile DICOM files and zip archives.

Every variant starts from a small phantom series written by the project's phantom writer
(``phantoms.dicom_io.write_series``) and changes one thing.  :func:`build` returns a
:class:`Crafted` with the files to send (``(name, bytes)`` pairs: DICOM files or one zip) and
what the importer must answer: ``code`` ``None`` for a variant that imports, else the error
code that must be reported, and ``words`` that the message must contain.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom import config
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian

MiB = 1024 * 1024


@dataclass(frozen=True)
class Crafted:
    name: str
    files: list[tuple[str, bytes]]
    code: str | None  # None: the upload imports
    words: tuple[str, ...] = ()  # the refusal's messages name these

    @property
    def is_zip(self) -> bool:
        return len(self.files) == 1 and self.files[0][0].endswith(".zip")


def phantom_files(tmp: Path, seed: int) -> list[tuple[str, bytes]]:
    """One small phantom study (32 x 32, about 29 slices), one Part 10 file per slice."""
    from phantoms import make_case
    from phantoms.dicom_io import write_series

    case = make_case(seed, "sich", matrix=32, case_id=f"CR{seed:04d}")
    paths = write_series(case, tmp / f"seed{seed}")
    return [(p.name, p.read_bytes()) for p in paths]


def _lenient(fn: Callable[[], bytes]) -> bytes:
    """Write a value pydicom would refuse (the point of a crafted file)."""
    old = config.settings.writing_validation_mode, config.settings.reading_validation_mode
    config.settings.writing_validation_mode = config.IGNORE
    config.settings.reading_validation_mode = config.IGNORE
    try:
        return fn()
    finally:
        config.settings.writing_validation_mode, config.settings.reading_validation_mode = old


def _rewrite(data: bytes, change: Callable[[pydicom.Dataset], None]) -> bytes:
    def go() -> bytes:
        ds = pydicom.dcmread(io.BytesIO(data))
        change(ds)
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        return buf.getvalue()

    return _lenient(go)


def _element_at(data: bytes, tag: int) -> int:
    """Offset of the top-level explicit VR little endian element ``tag`` in a Part 10 file."""
    return data.index(struct.pack("<HH", tag >> 16, tag & 0xFFFF), 132)


def _set(keyword: str, value: str):
    """Give ``keyword`` the raw text ``value`` (pydicom would not write it): splice the bytes."""
    tag = pydicom.datadict.tag_for_keyword(keyword)
    vr = pydicom.datadict.dictionary_VR(tag)

    def change(data: bytes) -> bytes:
        if tag not in pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True):
            data = _rewrite(data, lambda ds: ds.add_new(tag, vr, "1"))
        at = _element_at(data, tag)
        (length,) = struct.unpack("<H", data[at + 6 : at + 8])
        raw = value.encode("ascii")
        raw += b" " * (len(raw) % 2)
        head = data[at : at + 6] + struct.pack("<H", len(raw))
        return data[:at] + head + raw + data[at + 8 + length :]

    return change


def _deflated(ds):
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian


def _big_endian(data: bytes) -> bytes:
    ds = pydicom.dcmread(io.BytesIO(data))
    ds.PixelData = ds.pixel_array.astype(">u2").tobytes()
    ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, implicit_vr=False, little_endian=False, enforce_file_format=True)
    return buf.getvalue()


def _unknown_ts(ds):
    ds.file_meta.TransferSyntaxUID = "1.2.826.0.1.3680043.99999.1.2"


def _all(files, fn):
    """``fn(bytes) -> bytes`` applied to every file."""
    return [(n, fn(d)) for n, d in files]


def _one(files, fn, index=3):
    """``fn`` applied to the fourth file only (IM0004.dcm)."""
    out = list(files)
    out[index] = (out[index][0], fn(out[index][1]))
    return out


def _ds(change):
    """A bytes -> bytes change from a change of the parsed dataset."""
    return lambda data: _rewrite(data, change)


def _unknown_vr(data: bytes) -> bytes:
    """Manufacturer (0008,0070) LO -> VR 'ZZ'."""
    at = data.index(b"\x08\x00\x70\x00LO")
    return data[: at + 4] + b"ZZ" + data[at + 6 :]


def _corrupt_length(data: bytes) -> bytes:
    """PatientID (0010,0020) gets a length that runs into the following elements."""
    at = data.index(b"\x10\x00\x20\x00LO")
    (length,) = struct.unpack("<H", data[at + 6 : at + 8])
    return data[: at + 6] + struct.pack("<H", length + 37) + data[at + 8 :]


def _pk_preamble(data: bytes) -> bytes:
    return b"PK\x03\x04" + data[4:]


# -- archives -------------------------------------------------------------------------------


def zip_bytes(entries, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def lying_size(archive: bytes, member: str, declared: int) -> bytes:
    """Rewrite the uncompressed size of ``member`` in its local header and directory entry."""
    data = bytearray(archive)
    name = member.encode()
    local = data.index(b"PK\x03\x04")
    while True:  # local file header: size at +22
        n = struct.unpack("<H", data[local + 26 : local + 28])[0]
        if bytes(data[local + 30 : local + 30 + n]) == name:
            struct.pack_into("<L", data, local + 22, declared)
            break
        local = data.index(b"PK\x03\x04", local + 4)
    central = data.index(b"PK\x01\x02")
    while True:  # central directory header: size at +24
        n = struct.unpack("<H", data[central + 28 : central + 30])[0]
        if bytes(data[central + 46 : central + 46 + n]) == name:
            struct.pack_into("<L", data, central + 24, declared)
            break
        central = data.index(b"PK\x01\x02", central + 4)
    return bytes(data)


def sparse_bytes(size: int, seed: int, step: int = 512) -> bytes:
    """Bytes that deflate about 120:1: below the per-member limit, far above a CT slice."""
    rng = random.Random(seed)
    data = bytearray(size)
    for i in range(0, size, step):
        data[i] = rng.randrange(256)
    return bytes(data)


def _zip_upload(entries, name="study.zip") -> list[tuple[str, bytes]]:
    return [(name, zip_bytes(entries))]


# -- the corpus ----------------------------------------------------------------------------

# name -> (seed, builder(files) -> upload, expected code or None, words in the message)
VARIANTS: dict[str, tuple] = {
    "deflated_explicit_little": (101, lambda f: _all(f, _ds(_deflated)), None, ()),
    "explicit_big_endian": (102, lambda f: _all(f, _big_endian), None, ()),
    "pk_preamble": (103, lambda f: [(n, _pk_preamble(d)) for n, d in f], None, ()),
    "unknown_transfer_syntax": (
        1,
        lambda f: _one(f, _ds(_unknown_ts)),
        "unsupported_transfer_syntax",
        ("transfer syntax", "IM0004.dcm"),
    ),
    "unknown_vr": (1, lambda f: _one(f, _unknown_vr), "invalid_value", ("IM0004.dcm",)),
    "series_number_text": (
        1,
        lambda f: _all(f, _set("SeriesNumber", "12a")),
        "invalid_value",
        ("SeriesNumber",),
    ),
    "series_number_huge": (
        1,
        lambda f: _all(f, _set("SeriesNumber", "999999999999")),
        "invalid_value",
        ("SeriesNumber",),
    ),
    "instance_number_text": (
        1,
        lambda f: _one(f, _set("InstanceNumber", "x1")),
        "invalid_value",
        ("InstanceNumber", "IM0004.dcm"),
    ),
    "number_of_frames_inf": (
        1,
        lambda f: _one(f, _set("NumberOfFrames", "inf")),
        "invalid_value",
        ("NumberOfFrames", "IM0004.dcm"),
    ),
    "rescale_slope_nan": (
        1,
        lambda f: _one(f, _set("RescaleSlope", "nan")),
        "invalid_value",
        ("RescaleSlope", "IM0004.dcm"),
    ),
    "rescale_intercept_inf": (
        1,
        lambda f: _one(f, _set("RescaleIntercept", "inf")),
        "invalid_value",
        ("RescaleIntercept", "IM0004.dcm"),
    ),
    "slice_thickness_nan": (
        1,
        lambda f: _all(f, _set("SliceThickness", "nan")),
        "invalid_value",
        ("SliceThickness",),
    ),
    "pixel_spacing_denormal": (
        1,
        lambda f: _all(f, _set("PixelSpacing", "5e-324\\5e-324")),
        "invalid_value",
        ("PixelSpacing",),
    ),
    "manufacturer_5000_chars": (104, lambda f: _all(f, _set("Manufacturer", "M" * 5000)), None, ()),
    "corrupt_length": (1, lambda f: _one(f, _corrupt_length), "truncated", ("IM0004.dcm",)),
    # archives
    "zip_member_1mib_ratio": (
        1,
        lambda f: _zip_upload([*f, ("pad.dcm", b"\x00" * MiB)]),
        "zip_bomb",
        ("compression ratio",),
    ),
    "zip_many_small_members": (
        1,
        lambda f: _zip_upload([*f, *((f"pad{i:03d}.dcm", bytes(64 * 1024)) for i in range(300))]),
        "zip_bomb",
        ("compression ratio",),
    ),
    "zip_total_expansion": (
        1,
        lambda f: _zip_upload(
            [*f, *((f"pad{i:03d}.dcm", sparse_bytes(256 * 1024, i)) for i in range(60))]
        ),
        "zip_bomb",
        ("archive expands",),
    ),
    "zip_lying_header": (
        1,
        lambda f: [("study.zip", lying_size(zip_bytes(f), f[2][0], 100))],
        "bad_archive",
        ("IM0003.dcm",),
    ),
    "zip_nested": (
        1,
        lambda f: _zip_upload([("inner.zip", zip_bytes(f))]),
        "no_series",
        ("nested archive",),
    ),
    "zip_path_traversal": (
        1,
        lambda f: _zip_upload([*f, ("../../evil.dcm", f[0][1])]),
        "unsafe_path",
        ("leaves the archive",),
    ),
}


def build(name: str, tmp: Path) -> Crafted:
    seed, make, code, words = VARIANTS[name]
    return Crafted(name, make(phantom_files(tmp, seed)), code, words)
