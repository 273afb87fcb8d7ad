"""Typed errors and structured error records for DICOM ingest.

Every problem found while ingesting an upload is described by an :class:`IngestError` record
with a stable machine-readable ``code`` (see :class:`ErrorCode`) and a human message.  Messages
name files only through :func:`safe_file_label` (a file's name inside the upload, with any
component that could carry identifying text replaced by a keyed hash) and never contain a value
read from a DICOM attribute, so records can be logged and stored as they are.

Exceptions (:class:`DicomIngestError` and subclasses) carry one such record in ``.error``.
They are raised ``from None``: the underlying pydicom/zipfile errors may quote member names
or element values, so they are not chained into tracebacks.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "ArchiveError",
    "DicomIngestError",
    "ErrorCode",
    "IngestError",
    "QuarantineError",
    "Severity",
    "safe_file_label",
]


class ErrorCode(StrEnum):
    """Stable error codes (stored by the Django layer; do not rename)."""

    # file level
    NOT_DICOM = "not_dicom"
    TRUNCATED = "truncated"
    UNSUPPORTED_TRANSFER_SYNTAX = "unsupported_transfer_syntax"
    INVALID_VALUE = "invalid_value"  # an attribute the importer uses cannot be parsed or used
    UNSUPPORTED_SOP_CLASS = "unsupported_sop_class"
    WRONG_MODALITY = "wrong_modality"
    # quarantine (file level, checked before de-identification)
    BURNED_IN_ANNOTATION = "burned_in_annotation"
    SECONDARY_CAPTURE = "secondary_capture"
    DOSE_REPORT = "dose_report"
    # series level
    MIXED_SERIES = "mixed_series"
    MISSING_SLICES = "missing_slices"
    DUPLICATE_SLICES = "duplicate_slices"
    INCONSISTENT_GEOMETRY = "inconsistent_geometry"
    GANTRY_TILT = "gantry_tilt"  # tilted beyond the accepted bound (the message names the angle)
    ABSURD_DIMENSIONS = "absurd_dimensions"
    UNDECODABLE_PIXELS = "undecodable_pixels"
    # upload level
    NO_SERIES = "no_series"
    NO_PRIMARY_SERIES = "no_primary_series"
    MIXED_PATIENTS = "mixed_patients"
    PRIMARY_NOT_FOUND = "primary_not_found"
    # archive level
    UNSAFE_PATH = "unsafe_path"
    ENCRYPTED_MEMBER = "encrypted_member"
    SYMLINK = "symlink"
    ZIP_BOMB = "zip_bomb"
    TOO_MANY_MEMBERS = "too_many_members"
    BAD_ARCHIVE = "bad_archive"
    NESTED_ARCHIVE = "nested_archive"


QUARANTINE_CODES = frozenset(
    {ErrorCode.BURNED_IN_ANNOTATION, ErrorCode.SECONDARY_CAPTURE, ErrorCode.DOSE_REPORT}
)


class Severity(StrEnum):
    #: blocks the import (the caller stores nothing)
    ERROR = "error"
    #: the file or series was left out; the import can still go ahead
    EXCLUDED = "excluded"


@dataclass(frozen=True)
class IngestError:
    """One problem, without PHI: safe to log and store."""

    code: ErrorCode
    message: str
    file: str | None = None
    series: str | None = None  # de-identified SeriesInstanceUID, when known
    slices: tuple[int, ...] = ()  # slice indices after sorting along the normal
    severity: Severity = Severity.ERROR
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["code"] = str(self.code)
        d["severity"] = str(self.severity)
        d["slices"] = list(self.slices)
        return d

    def excluded(self) -> IngestError:
        return IngestError(
            self.code,
            self.message,
            self.file,
            self.series,
            self.slices,
            Severity.EXCLUDED,
            self.extra,
        )

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class DicomIngestError(Exception):
    """Base exception; ``.error`` is the structured record, ``.code`` its code."""

    def __init__(self, error: IngestError):
        super().__init__(str(error))
        self.error = error

    @property
    def code(self) -> ErrorCode:
        return self.error.code

    @classmethod
    def make(cls, code: ErrorCode, message: str, **kw: Any) -> DicomIngestError:
        return cls(IngestError(code, message, **kw))


class QuarantineError(DicomIngestError):
    """The instance must not be de-identified and imported (burned-in text, screen saves...)."""


class ArchiveError(DicomIngestError):
    """The uploaded archive is unsafe or unreadable; nothing from it is used."""


# A path component is shown as it is only if it looks like a machine-made file or folder name
# (IM0001.dcm, 000123, SE01, slice_012.dcm, DICOM): a known prefix word followed by a short number.
# Anything else (free text, names, long numbers such as UIDs or record numbers) is replaced by a
# keyed hash, so messages stay free of PHI even when folders are named after patients.
_PREFIX_WORDS = "im|img|image|i|se|ser|series|st|stu|study|slice|ct|exp|export|file|dcm|dicom|z|s"
_SAFE_COMPONENT = re.compile(
    rf"^(?:(?:{_PREFIX_WORDS})[_-]?)?\d{{1,8}}(?:\.(?:dcm|dicom|ima|img|zip))?$"
    r"|^(?:dicom|images|series|study|data|export|upload|scans|ct|dicomdir|readme(?:\.txt|\.md)?)$",
    re.IGNORECASE,
)


def safe_file_label(name: str, secret: bytes = b"") -> str:
    """Return a display label for a file named ``name`` inside an upload, free of PHI."""
    parts = [p for p in re.split(r"[\\/]+", name) if p not in ("", ".")]
    out = []
    for p in parts:
        if len(p) <= 24 and _SAFE_COMPONENT.match(p):
            out.append(p)
        else:
            h = hmac.new(secret, p.encode("utf-8", "surrogateescape"), hashlib.sha256)
            out.append("~" + h.hexdigest()[:10])
    return "/".join(out) or "~unnamed"
