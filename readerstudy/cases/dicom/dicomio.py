"""Reading DICOM files with typed errors.

:func:`read_dicom`: files with the ``DICM`` preamble are parsed as Part 10 files;
other files are accepted only if a forced parse yields SOP Class and SOP Instance UIDs.  A file
that starts like DICOM but ends early (pydicom reads short values silently) is reported as
``truncated``: the last element's value is shorter than its declared length (checked on
header-only reads too: a corrupt length inside the file runs the parse off the end), uncompressed
pixel data are shorter than Rows x Columns x frames x BitsAllocated, or the header stops before
the SOP identifiers.  The transfer syntax must be one pydicom can decode here
(``unsupported_transfer_syntax``); the attributes the importer uses are checked by
:mod:`.values`, and every other element must parse (``invalid_value``).  Deflated and big
endian files are returned as explicit VR little endian datasets, the one encoding stored (the
importer writes them with pydicom's ``Dataset.save_as``).
"""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import pydicom
from pydicom.dataelem import RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset, FileDataset
from pydicom.filereader import read_file_meta_info
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

__all__ = ["looks_like_dicom", "read_dicom", "supported_transfer_syntax"]

_UNDEFINED = 0xFFFFFFFF


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


def _transfer_syntax(ds: Dataset | None, data: Callable[[], bytes]) -> UID | None:
    meta = getattr(ds, "file_meta", None) if ds is not None else None
    if meta is None:
        # pydicom's public read_file_meta_info() opens a path only (a BytesIO raised
        # TypeError, so the syntax of an unparseable Part 10 file went unchecked); this path
        # is taken only for files pydicom could not parse, so a temporary copy is cheap.
        try:
            with tempfile.NamedTemporaryFile(suffix=".dcm") as tmp:
                tmp.write(data())
                tmp.flush()
                meta = read_file_meta_info(tmp.name)
        except Exception:  # no readable file meta: nothing to check
            return None
    ts = meta.get("TransferSyntaxUID")
    return UID(str(ts)) if ts else None


def _check_transfer_syntax(ds: Dataset | None, data: Callable[[], bytes], label: str) -> None:
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

    A path is parsed from the file, so a header-only read reads the header, not the file.
    """
    source_for_pydicom: str | io.BytesIO
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            with open(path, "rb") as fh:
                head, size = fh.read(132), os.fstat(fh.fileno()).st_size
        except OSError:
            raise _err(ErrorCode.NOT_DICOM, label, "file could not be read") from None
        source_for_pydicom, whole = str(path), path.read_bytes  # the whole file: error paths
    else:
        data = bytes(source)
        head, size = data[:132], len(data)
        source_for_pydicom, whole = io.BytesIO(data), lambda: data
    part10 = looks_like_dicom(head)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(
                source_for_pydicom, force=not part10, stop_before_pixels=stop_before_pixels
            )
    except Exception:  # pydicom raises many types on garbage input
        if part10:
            _check_transfer_syntax(None, whole, label)
            raise _err(ErrorCode.TRUNCATED, label, "DICOM file is truncated or corrupt") from None
        raise _err(ErrorCode.NOT_DICOM, label, "not a DICOM file") from None
    if part10:
        _check_transfer_syntax(ds, whole, label)
    keys = ds.keys()
    if 0x00080016 not in keys or 0x00080018 not in keys:
        if part10 and size > 132:
            raise _err(ErrorCode.TRUNCATED, label, "DICOM header ends before the SOP identifiers")
        raise _err(ErrorCode.NOT_DICOM, label, "not a DICOM file")
    _check_last_element(ds, label)
    check_values(ds, label)
    if not stop_before_pixels:
        _check_pixel_length(ds, label)
    _parse_all(ds, label)
    result = _little_endian(ds, label)
    if isinstance(result, FileDataset):
        # pydicom keeps the buffer it read from (the whole file, pixels included, for deferred
        # reads, which are not used): without this, every header of an upload kept its file
        result.buffer = None
    return result


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
