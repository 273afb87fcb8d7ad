"""Study-level downloads of the reader segmentations: every locked read's segmentation in one
zip (DICOM SEG files or the stored NIfTI masks) with a manifest, streamed member by member, and
their radiomic features in the long format of ``python -m readerstudy.analysis icc``.

Every segmentation's content hash is checked before the first byte is sent, so a download
that starts holds every segmentation (building a SEG can still fail on a case whose images
changed; the error is logged and the zip ends there, unreadable).

Names in the zip: ``<case>-<reader>-s<session>-<condition>.nii.gz`` / ``...-seg.dcm``, one per
read (the same reader reads a case again in a later session); ``manifest.csv`` lists them with
the read they come from.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterable, Iterator

from django.core.files.storage import default_storage

from readerstudy.cases.annotator_features import Extractor, mask_feature_rows
from readerstudy.studies.errors import NotAvailable, ProtocolConflict
from readerstudy.studies.models import ReaderStudy

from .segmentations import ReaderSegmentation, reader_segmentations, seg_bytes

FORMATS = ("seg", "nifti")
MANIFEST_COLUMNS = (
    "file", "case", "reader", "session", "condition", "assignment", "locked_at", "sha256",
    "voxels",
)  # fmt: skip


def _read(name: str) -> bytes:
    with default_storage.open(name, "rb") as fh:
        return fh.read()


def checked_segmentations(study: ReaderStudy) -> list[ReaderSegmentation]:
    """The study's locked segmentations, each file present and matching its sha256; raises
    NotAvailable (none yet) or ProtocolConflict (naming the read whose file differs)."""
    segs = reader_segmentations(study)
    if not segs:
        raise NotAvailable(
            "no_segmentations", "this study has no locked reads with a segmentation yet"
        )
    for seg in segs:
        try:
            data = _read(seg.file)
        except OSError:
            raise ProtocolConflict(
                "segmentation_missing",
                f"the stored segmentation of read {seg.assignment.pk} cannot be read",
            ) from None
        if hashlib.sha256(data).hexdigest() != seg.sha256:
            raise ProtocolConflict(
                "segmentation_changed",
                f"the stored segmentation of read {seg.assignment.pk} does not match its sha256",
            )
    return segs


def member_name(seg: ReaderSegmentation, fmt: str) -> str:
    a = seg.assignment
    stem = f"{a.study_case.case.code}-{a.reader.user.username}-s{a.session.index}-{a.condition}"
    return f"{stem}-seg.dcm" if fmt == "seg" else f"{stem}.nii.gz"


def manifest_csv(segs: Iterable[ReaderSegmentation], fmt: str) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    for seg in segs:
        a = seg.assignment
        writer.writerow(
            [
                member_name(seg, fmt), a.study_case.case.code, a.reader.user.username,
                a.session.index, a.condition, a.pk,
                a.locked_at.isoformat() if a.locked_at else "", seg.sha256, seg.voxels,
            ]
        )  # fmt: skip
    return buf.getvalue().encode()


class _Chunks(io.RawIOBase):
    """A write-only, unseekable sink whose bytes are taken out after each zip member."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self._parts.append(bytes(b))
        return len(b)

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def _zip_stream(members: Iterable[tuple[str, bytes]]) -> Iterator[bytes]:
    sink = _Chunks()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            # a fixed time stamp: the same segmentations always zip to the same bytes
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
            yield sink.take()
    yield sink.take()


def segmentations_zip(segs: list[ReaderSegmentation], fmt: str) -> Iterator[bytes]:
    """The zip of ``segs`` (from :func:`checked_segmentations`) in ``fmt``, chunk by chunk."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown segmentation format {fmt!r}")

    def members() -> Iterator[tuple[str, bytes]]:
        yield "manifest.csv", manifest_csv(segs, fmt)
        for seg in segs:
            yield member_name(seg, fmt), seg_bytes(seg) if fmt == "seg" else _read(seg.file)

    return _zip_stream(members())


def segmentation_feature_rows(
    segs: Iterable[ReaderSegmentation], extractor: Extractor
) -> Iterator[dict]:
    """Radiomic features of each segmentation (``case, rater, session, feature, value``):
    the rater is the reader, the session ``s<index>-<condition>`` as in the Dice table."""

    def items():
        for seg in segs:
            a = seg.assignment
            case = a.study_case.case
            if case.primary_series is None or not case.primary_series.volume:
                raise ProtocolConflict("no_volume", f"case {case.code} has no stored volume")
            session = f"s{a.session.index}-{a.condition}"
            label = f"read {a.pk} ({a.reader.user.username}, {case.code}, {session})"
            yield case.primary_series, seg.file, case.code, a.reader.user.username, session, label

    return mask_feature_rows(items(), extractor)
