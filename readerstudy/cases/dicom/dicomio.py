"""Reading DICOM files with typed errors, and a fast writer for de-identified datasets.

Reading (:func:`read_dicom`): files with the ``DICM`` preamble are parsed as Part 10 files;
other files are accepted only if a forced parse yields SOP Class and SOP Instance UIDs.  A file
that starts like DICOM but ends early (pydicom reads short values silently) is reported as
``truncated``: the last element's value is shorter than its declared length (checked on
header-only reads too: a corrupt length inside the file runs the parse off the end), uncompressed
pixel data are shorter than Rows x Columns x frames x BitsAllocated, or the header stops before
the SOP identifiers.  The transfer syntax must be one pydicom can decode here
(``unsupported_transfer_syntax``); the attributes the importer uses are checked by
:mod:`.values`, and every other element must parse (``invalid_value``).  Deflated and big
endian files are returned as explicit VR little endian datasets, the one encoding stored.

Writing (:func:`encode`): elements that were not modified are still pydicom ``RawDataElement``
objects holding the bytes as read, so they are copied verbatim (pixel data included, never
decoded) with a hand-written element header; modified elements go through pydicom's element
writer.  The file meta group is written from ``ds.file_meta``.  For big-endian or mixed
encodings the writer falls back to ``Dataset.save_as``.  Output is a valid Part 10 file (tests
compare it with pydicom's own output).
"""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import pydicom
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_file_meta_info
from pydicom.filewriter import write_data_element
from pydicom.pixels import get_decoder
from pydicom.tag import Tag
from pydicom.uid import (
    UID,
    AllTransferSyntaxes,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
)

from .errors import DicomIngestError, ErrorCode, IngestError
from .values import check_values

__all__ = ["encode", "looks_like_dicom", "read_dicom", "save", "supported_transfer_syntax"]

_LONG_VRS = frozenset(
    {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
)
_UNDEFINED = 0xFFFFFFFF
_ITEM = b"\xfe\xff\x00\xe0\xff\xff\xff\xff"
_ITEM_END = b"\xfe\xff\x0d\xe0\x00\x00\x00\x00"
_SEQ_END = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
_pack_tag_short = struct.Struct("<HH2sH").pack
_pack_tag_long = struct.Struct("<HH2s2xL").pack
_pack_tag_implicit = struct.Struct("<HHL").pack


# ------------------------------------------------------------------------------------------
# reading


def looks_like_dicom(head: bytes) -> bool:
    """True if ``head`` (the first 132+ bytes) carries the Part 10 ``DICM`` marker."""
    return len(head) >= 132 and head[128:132] == b"DICM"


def _err(code: ErrorCode, label: str, msg: str) -> DicomIngestError:
    return DicomIngestError(IngestError(code, f"{label}: {msg}", file=label))


def supported_transfer_syntax(uid: str) -> bool:
    """A registered transfer syntax whose pixel data pydicom can decode with what is installed."""
    uid = UID(uid)
    if uid not in AllTransferSyntaxes:
        return False
    try:
        return get_decoder(uid).is_available
    except NotImplementedError:
        return False


def _transfer_syntax(ds: Dataset | None, data: bytes) -> UID | None:
    meta = getattr(ds, "file_meta", None) if ds is not None else None
    if meta is None:
        try:
            meta = read_file_meta_info(io.BytesIO(data))
        except Exception:  # no readable file meta: nothing to check
            return None
    ts = meta.get("TransferSyntaxUID")
    return UID(str(ts)) if ts else None


def _check_transfer_syntax(ds: Dataset | None, data: bytes, label: str) -> None:
    ts = _transfer_syntax(ds, data)
    if ts is not None and not supported_transfer_syntax(ts):
        raise _err(
            ErrorCode.UNSUPPORTED_TRANSFER_SYNTAX,
            label,
            "unsupported transfer syntax (native, deflated, JPEG, JPEG-LS, JPEG 2000 and RLE"
            " files can be imported)",
        )


def read_dicom(
    source: str | Path | bytes | bytearray | memoryview,
    *,
    label: str,
    stop_before_pixels: bool = False,
) -> Dataset:
    """Parse one DICOM file (path or bytes) into an explicit VR little endian dataset.

    Raises DicomIngestError: ``not_dicom``, ``truncated``, ``unsupported_transfer_syntax``,
    ``invalid_value`` (see :mod:`.values`; also any attribute pydicom cannot parse) or, for a
    big endian file whose pixels cannot be decoded, ``undecodable_pixels``.
    """
    if isinstance(source, str | Path):
        try:
            data = Path(source).read_bytes()
        except OSError:
            raise _err(ErrorCode.NOT_DICOM, label, "file could not be read") from None
    else:
        data = bytes(source)
    part10 = looks_like_dicom(data[:132])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(
                io.BytesIO(data), force=not part10, stop_before_pixels=stop_before_pixels
            )
    except Exception:  # pydicom raises many types on garbage input
        if part10:
            _check_transfer_syntax(None, data, label)
            raise _err(ErrorCode.TRUNCATED, label, "DICOM file is truncated or corrupt") from None
        raise _err(ErrorCode.NOT_DICOM, label, "not a DICOM file") from None
    if part10:
        _check_transfer_syntax(ds, data, label)
    keys = ds.keys()
    if 0x00080016 not in keys or 0x00080018 not in keys:
        if part10 and len(data) > 132:
            raise _err(ErrorCode.TRUNCATED, label, "DICOM header ends before the SOP identifiers")
        raise _err(ErrorCode.NOT_DICOM, label, "not a DICOM file")
    _check_last_element(ds, label)
    check_values(ds, label)
    if not stop_before_pixels:
        _check_pixel_length(ds, label)
    _parse_all(ds, label)
    return _little_endian(ds, label)


def _parse_all(ds: Dataset, label: str) -> None:
    """Convert every element once (the dataset keeps its raw elements), so a value pydicom
    cannot parse (unknown VR, undecodable value) is named here instead of failing later."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for tag in list(ds.keys()):
            if tag == 0x7FE00010:
                continue
            elem = ds.get_item(tag)
            try:
                if isinstance(elem, RawDataElement):
                    elem = convert_raw_data_element(elem, encoding=ds.original_character_set, ds=ds)
            except Exception:
                raise _err(
                    ErrorCode.INVALID_VALUE, label, f"attribute {Tag(tag)} cannot be parsed"
                ) from None
            if elem.VR == "SQ":
                for item in elem.value:
                    _parse_all(item, label)


def _little_endian(ds: Dataset, label: str) -> Dataset:
    """Deflated and big endian files become explicit VR little endian (what is stored).

    Deflated files were inflated while reading: only the transfer syntax changes.  Big endian
    pixel data are decoded and stored little endian, then the file is written and read again
    (pydicom converts the other elements).
    """
    meta = getattr(ds, "file_meta", None)
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    if ts == DeflatedExplicitVRLittleEndian:
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    if ts != ExplicitVRBigEndian:
        return ds
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if "PixelData" in ds:
                pixels = ds.pixel_array
                ds.PixelData = pixels.astype(pixels.dtype.newbyteorder("<")).tobytes()
                if "PlanarConfiguration" in ds:
                    ds.PlanarConfiguration = 0
            ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
            buffer = io.BytesIO()
            pydicom.dcmwrite(
                buffer, ds, implicit_vr=False, little_endian=True, enforce_file_format=True
            )
            return pydicom.dcmread(io.BytesIO(buffer.getvalue()))
    except Exception as exc:
        raise _err(
            ErrorCode.UNDECODABLE_PIXELS,
            label,
            f"big endian file cannot be converted ({type(exc).__name__})",
        ) from None


def _check_last_element(ds: Dataset, label: str) -> None:
    """A declared length running past the end of the file (header-only reads included)."""
    keys = ds.keys()
    if not keys:
        return
    last = ds.get_item(max(keys))
    if (
        isinstance(last, RawDataElement)
        and last.length != _UNDEFINED
        and last.value is not None
        and len(last.value) < last.length
    ):
        raise _err(ErrorCode.TRUNCATED, label, "file ends inside its last data element")


def _check_pixel_length(ds: Dataset, label: str) -> None:
    keys = ds.keys()
    if 0x7FE00010 not in keys:
        return
    px = ds.get_item(0x7FE00010)
    if isinstance(px, RawDataElement) and px.length == _UNDEFINED:
        return  # encapsulated: checked when decoding
    ts = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if ts is not None and UID(ts).is_compressed:
        return
    try:
        rows, cols = int(ds.Rows), int(ds.Columns)
        bits = int(ds.BitsAllocated)
        spp = int(ds.get("SamplesPerPixel", 1) or 1)
        frames = int(ds.get("NumberOfFrames", 1) or 1)
    except (AttributeError, TypeError, ValueError):
        return  # geometry errors are reported by series validation
    expected = (rows * cols * frames * spp * bits + 7) // 8
    value = px.value if isinstance(px, RawDataElement) else ds.PixelData
    if value is not None and len(value) < expected:
        raise _err(ErrorCode.TRUNCATED, label, "pixel data are shorter than the image size")


# ------------------------------------------------------------------------------------------
# writing


def _pad(b: bytes, pad: bytes) -> bytes:
    return b + pad if len(b) % 2 else b


def _meta_value(elem: DataElement) -> bytes:
    v = elem.value
    if elem.VR == "UL":
        return struct.pack("<L", int(v))
    if elem.VR in ("OB", "UN"):
        return _pad(bytes(v), b"\x00")
    if elem.VR == "UI":
        return _pad(str(v).encode("ascii"), b"\x00")
    if elem.VR in ("SH", "AE", "LO", "UR", "CS"):
        return _pad(str(v).encode("ascii"), b" ")
    raise ValueError(f"unsupported file meta VR {elem.VR}")


def _file_meta_bytes(ds: Dataset) -> bytes:
    fm = ds.file_meta
    body = bytearray()
    if 0x00020001 not in fm:
        body += _pack_tag_long(2, 1, b"OB", 2) + b"\x00\x01"
    for tag in sorted(fm.keys()):
        if tag == 0x00020000:
            continue
        elem = fm[tag]
        value = _meta_value(elem)
        vr = elem.VR.encode()
        g, e = tag >> 16, tag & 0xFFFF
        if elem.VR in _LONG_VRS:
            body += _pack_tag_long(g, e, vr, len(value))
        else:
            body += _pack_tag_short(g, e, vr, len(value))
        body += value
    return _pack_tag_short(2, 0, b"UL", 4) + struct.pack("<L", len(body)) + bytes(body)


class _Writer:
    def __init__(self, implicit: bool, encodings):
        self.implicit = implicit
        self.fp = DicomBytesIO()
        self.fp.is_little_endian = True
        self.fp.is_implicit_VR = implicit
        self.encodings = encodings

    def header(self, tag: int, vr: str | None, length: int) -> bytes:
        g, e = tag >> 16, tag & 0xFFFF
        if self.implicit:
            return _pack_tag_implicit(g, e, length)
        if vr in _LONG_VRS:
            return _pack_tag_long(g, e, vr.encode(), length)
        return _pack_tag_short(g, e, vr.encode(), length)

    def dataset(self, ds: Dataset, encodings) -> None:
        write = self.fp.write
        get_item = ds.get_item
        if 0x00080005 in ds:
            encodings = ds.SpecificCharacterSet or encodings
        for tag in sorted(ds.keys()):
            if (tag & 0xFFFF) == 0 and (tag >> 16) > 6:
                continue  # retired group lengths are never written
            el = get_item(tag)
            if el.is_raw and not el.is_buffered:
                if not el.is_little_endian or el.is_implicit_VR != self.implicit:
                    raise _Fallback
                vr = el.VR
                value = el.value or b""
                length = el.length
                if length == _UNDEFINED:
                    write(self.header(tag, vr, _UNDEFINED))
                    write(value)
                    write(_SEQ_END)
                    continue
                if not self.implicit and (vr is None or len(vr) != 2):
                    raise _Fallback
                if not self.implicit and vr not in _LONG_VRS and len(value) > 0xFFFF:
                    raise _Fallback
                write(self.header(tag, vr, len(value)))
                write(value)
            elif el.VR == "SQ" and not el.is_buffered:
                write(self.header(tag, "SQ", _UNDEFINED))
                for item in el.value:
                    write(_ITEM)
                    self.dataset(item, encodings)
                    write(_ITEM_END)
                write(_SEQ_END)
            else:
                write_data_element(self.fp, el, encodings)


class _Fallback(Exception):
    pass


def encode(ds: Dataset) -> bytes:
    """Serialize ``ds`` (with ``ds.file_meta``) as a Part 10 file, copying raw values verbatim."""
    fm = getattr(ds, "file_meta", None)
    ts = fm.get("TransferSyntaxUID") if fm is not None else None
    if ts is not None:
        ts = UID(ts)
        if ts.is_little_endian:
            try:
                w = _Writer(ts.is_implicit_VR, ds.get("SpecificCharacterSet", None))
                w.dataset(ds, ds.get("SpecificCharacterSet", None) or "iso8859")
                preamble = ds.preamble if ds.preamble and len(ds.preamble) == 128 else None
                return (
                    (preamble or b"\x00" * 128) + b"DICM" + _file_meta_bytes(ds) + w.fp.getvalue()
                )
            except (_Fallback, ValueError, NotImplementedError, KeyError):
                pass
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def save(ds: Dataset, path: str | Path) -> None:
    Path(path).write_bytes(encode(ds))
