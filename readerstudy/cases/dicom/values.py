"""Checks of the numeric attributes the importer computes with or stores.

pydicom parses values it cannot use (``12a`` as IS, ``nan`` as DS, 5e-324 as a pixel spacing)
and only complains when they are used, deep inside volume building or the database.  Each file
is checked here right after parsing, so such a file is refused by name (``invalid_value``,
naming the file and the attribute, never the value) before anything is computed from it:

* integers (IS) must be integers in the signed 32-bit range of DICOM IS, which is also the
  range of the database columns they are stored in (SeriesNumber, InstanceNumber);
  NumberOfFrames must be 1 or more;
* decimals (DS) must be finite numbers within physical bounds (:data:`DECIMAL_BOUNDS`).

The raw bytes as read are parsed here, not pydicom's converted values, so a value pydicom would
raise on is reported instead of raising.
"""

from __future__ import annotations

import math

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from .errors import DicomIngestError, ErrorCode, IngestError

__all__ = ["DECIMAL_BOUNDS", "INT32", "check_values"]

INT32 = (-(2**31), 2**31 - 1)

# keyword -> (number of values, allowed range of |value| or value)
INTEGER_BOUNDS: dict[str, tuple[int, tuple[int, int]]] = {
    "SeriesNumber": (1, INT32),
    "InstanceNumber": (1, INT32),
    "AcquisitionNumber": (1, INT32),
    "NumberOfFrames": (1, (1, INT32[1])),
}
DECIMAL_BOUNDS: dict[str, tuple[int, tuple[float, float]]] = {
    "PixelSpacing": (2, (1e-3, 1e3)),  # mm
    "SliceThickness": (1, (0.0, 1e3)),  # mm
    "ImagePositionPatient": (3, (-1e6, 1e6)),  # mm
    "ImageOrientationPatient": (6, (-1.0001, 1.0001)),  # direction cosines
    "RescaleSlope": (1, (-1e6, 1e6)),
    "RescaleIntercept": (1, (-1e6, 1e6)),
}


def _texts(ds: Dataset, tag: int) -> list[str] | None:
    """The backslash-separated values of a string element as text; None when absent or empty."""
    elem = ds.get_item(tag)
    if elem is None:
        return None
    if isinstance(elem, RawDataElement):
        raw = elem.value or b""
        text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw)
    else:
        value = elem.value
        if value is None or value == "":
            return None
        items = [value] if isinstance(value, str | int | float) else list(value)
        text = "\\".join(str(v) for v in items)
    text = text.strip(" \x00")
    return [t.strip(" \x00") for t in text.split("\\")] if text else None


def _integer(text: str) -> int:
    """An IS value; ``12.0`` is accepted as pydicom does, ``12.5``, ``inf`` or ``12a`` are not."""
    try:
        return int(text)
    except ValueError:
        number = float(text)
        if not number.is_integer():
            raise ValueError(text) from None
        return int(number)


def _fail(label: str, keyword: str, what: str) -> DicomIngestError:
    return DicomIngestError(
        IngestError(ErrorCode.INVALID_VALUE, f"{label}: {keyword} {what}", file=label)
    )


def check_values(ds: Dataset, label: str) -> None:
    """Raise DicomIngestError(invalid_value) for the first unusable attribute of ``ds``."""
    for keyword, (count, (low, high)) in INTEGER_BOUNDS.items():
        texts = _texts(ds, Tag(keyword))
        if texts is None:
            continue
        try:
            numbers = [_integer(t) for t in texts]
        except ValueError:
            numbers = []
        if len(numbers) != count or not all(low <= n <= high for n in numbers):
            raise _fail(label, keyword, f"is not an integer in {low}..{high}")
    for keyword, (count, (lo, hi)) in DECIMAL_BOUNDS.items():
        texts = _texts(ds, Tag(keyword))
        if texts is None:
            continue
        try:
            decimals = [float(t) for t in texts]
        except ValueError:
            decimals = []
        if len(decimals) != count or not all(math.isfinite(n) for n in decimals):
            what = "a finite number" if count == 1 else f"{count} finite numbers"
            raise _fail(label, keyword, f"is not {what}")
        if not all(lo <= n <= hi for n in decimals):
            raise _fail(label, keyword, f"is outside {lo:g}..{hi:g}")
