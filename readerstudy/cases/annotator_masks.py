"""Several annotators' hematoma masks per case, and repeats by the same annotator (seed 001).

A manifest CSV (``case, annotator, session, date, path``; optional ``user``, ``segment``)
or one uploaded file brings them in. Each mask is checked as the truth mask is (a binary
DICOM SEG of the case's series, or a NIfTI on its grid) and must also be binary (0/1 only)
and non-empty; a later session of the same annotator may not be dated before an earlier one.
Every row is checked first: one problem and nothing is stored. The same case, annotator and
session again replaces the earlier mask. The import is recorded in the audit trail.
"""

import contextlib
import datetime as dt
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from readerstudy import audit
from readerstudy.core.jsontext import text_problem

from .csvfiles import read_csv
from .dicom.seg import is_dicom_file
from .errors import AnnotatorMaskError, LabelError
from .labels import read_mask
from .models import AnnotatorMask, Case
from .storage import save_content_addressed

REQUIRED = ("case", "annotator", "session", "date", "path")
OPTIONAL = ("user", "segment")
MAX_SESSION = 99
MASK_SUFFIXES = (".nii.gz", ".nii", ".dcm")


@dataclass(frozen=True)
class MaskSummary:
    masks: int
    cases: int
    replaced: int

    @property
    def message(self) -> str:
        masks = "mask" if self.masks == 1 else "masks"
        cases = "case" if self.cases == 1 else "cases"
        return (
            f"{self.masks} annotator {masks} of {self.cases} {cases} stored"
            f" ({self.replaced} replaced an earlier one)"
        )


@dataclass
class _Checked:
    where: str  # "row 3" or "the mask"
    case: Case
    annotator: str
    user: Any
    session: int
    session_date: dt.date
    array: np.ndarray
    data: bytes
    source_format: str


def _text(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column)
    return value.strip() if isinstance(value, str) else ""


def _fields(row: Mapping[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Problems and parsed values of a row's fields, the mask file left aside."""
    problems: list[str] = []
    for column in (*REQUIRED, *OPTIONAL):
        problem = text_problem(row.get(column) or "")
        if problem:
            problems.append(f"{column!r} {problem}")
    if problems:
        return problems, {}
    values: dict[str, Any] = {}
    code = _text(row, "case")
    values["case"] = Case.objects.filter(code=code).first() if code else None
    if not code:
        problems.append("'case' is empty")
    elif values["case"] is None:
        problems.append(f"no case {code!r} in the library")
    elif values["case"].primary_series is None:
        problems.append(f"case {code!r} has no primary series")
    annotator = _text(row, "annotator")
    limit = int(AnnotatorMask._meta.get_field("annotator").max_length or 0)
    if not annotator:
        problems.append("'annotator' is empty")
    elif len(annotator) > limit:
        problems.append(f"'annotator' is longer than {limit} characters")
    values["annotator"] = annotator
    session = _text(row, "session")
    if not session.isdigit() or not 1 <= int(session) <= MAX_SESSION:
        problems.append(
            f"'session' must be a whole number from 1 to {MAX_SESSION}, got {session!r}"
        )
    else:
        values["session"] = int(session)
    values["session_date"] = _date(_text(row, "date"), problems)
    username = _text(row, "user")
    values["user"] = None
    if username:
        values["user"] = get_user_model().objects.filter(username=username).first()
        if values["user"] is None:
            problems.append(f"'user' {username!r} is no account of the platform")
    segment = _text(row, "segment")
    values["segment"] = int(segment) if segment.isdigit() else None
    if segment and not segment.isdigit():
        problems.append(f"'segment' must be a segment number, got {segment!r}")
    return problems, values


def _date(text: str, problems: list[str]) -> dt.date | None:
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        problems.append(f"'date' must be a date as YYYY-MM-DD, got {text!r}")
        return None
    if value > timezone.localdate():
        problems.append(f"'date' {text} lies in the future")
        return None
    return value


def _mask(path: Path, case: Case, segment: int | None) -> tuple[np.ndarray, bytes, str]:
    """(0/1 array, NIfTI bytes, format) of a mask file; ValueError names the problem."""
    seg = is_dicom_file(path)
    if not seg:
        if segment is not None:
            raise ValueError("'segment' applies to a DICOM SEG, not to a NIfTI mask")
        raw = sitk.GetArrayFromImage(sitk.ReadImage(str(path)))
        values = np.unique(raw)
        if not np.isin(values, (0, 1)).all():
            shown = ", ".join(str(v) for v in values[:6])
            raise ValueError(f"the mask is not binary (values {shown}; only 0 and 1 allowed)")
    array, data = read_mask(case, path, segment=segment)
    if not array.any():
        raise ValueError("the mask is empty (no voxel set)")
    return array, data, AnnotatorMask.Format.SEG if seg else AnnotatorMask.Format.NIFTI


def _check(where: str, row: Mapping[str, Any], path: Path | None) -> tuple[list[str], Any]:
    problems, values = _fields(row)
    if path is None:
        problems.append("'path' is empty")
    elif not path.is_file():
        problems.append(f"mask file {_text(row, 'path') or path.name!r} not found")
    if problems or path is None:
        return [f"{where}: {p}" for p in problems], None
    try:
        array, data, kind = _mask(path, values["case"], values["segment"])
    except (RuntimeError, ValueError) as exc:
        name = _text(row, "path") or path.name
        return [f"{where}: mask {name!r}: {str(exc).splitlines()[0]}"], None
    checked = _Checked(
        where,
        values["case"],
        values["annotator"],
        values["user"],
        values["session"],
        values["session_date"],
        array,
        data,
        kind,
    )
    return [], checked


def _order_problems(checked: list[_Checked]) -> list[str]:
    """A repeat of a case, annotator and session; a later session dated before an earlier."""
    problems = []
    seen: dict[tuple[int, str, int], str] = {}
    for item in checked:
        key = (item.case.pk, item.annotator, item.session)
        if key in seen:
            problems.append(
                f"{item.where}: case {item.case.code}, annotator {item.annotator!r}, session"
                f" {item.session} is also in {seen[key]}"
            )
        seen[key] = item.where
    groups: dict[tuple[str, str], dict[int, tuple[dt.date, str]]] = {}
    for item in checked:
        dates = groups.setdefault((item.case.code, item.annotator), {})
        if not dates:
            stored = AnnotatorMask.objects.filter(case=item.case, annotator=item.annotator)
            for session, day in stored.values_list("session", "session_date"):
                dates[session] = (day, "stored")
        dates[item.session] = (item.session_date, item.where)
    for (code, annotator), dates in groups.items():
        ordered = sorted(dates.items())
        for (s1, (d1, w1)), (s2, (d2, w2)) in zip(ordered, ordered[1:], strict=False):
            if d2 < d1:
                where = w2 if w2 != "stored" else w1
                problems.append(
                    f"{where}: case {code}, annotator {annotator!r}: session {s2} ({d2}) is"
                    f" dated before session {s1} ({d1})"
                )
    return problems


def _store(checked: list[_Checked], *, actor: Any, source: str) -> MaskSummary:
    replaced = 0
    with transaction.atomic():
        for item in checked:
            name, digest = save_content_addressed("annotator-masks", item.data, ".nii.gz")
            series = item.case.primary_series
            assert series is not None  # checked
            voxel_ml = series.pixel_spacing_row * series.pixel_spacing_col * series.slice_spacing
            voxels = int(item.array.sum())
            _, created = AnnotatorMask.objects.update_or_create(
                case=item.case,
                annotator=item.annotator,
                session=item.session,
                defaults={
                    "series": series,
                    "user": item.user,
                    "session_date": item.session_date,
                    "file": name,
                    "sha256": digest,
                    "source_format": item.source_format,
                    "voxels": voxels,
                    "volume_ml": voxels * voxel_ml / 1000,
                    "imported_by": actor if getattr(actor, "is_authenticated", False) else None,
                },
            )
            replaced += 0 if created else 1
        summary = MaskSummary(len(checked), len({i.case.pk for i in checked}), replaced)
        audit.record(
            actor,
            "annotator_masks.import",
            AnnotatorMask,
            source=source,
            masks=summary.masks,
            cases=sorted({i.case.code for i in checked}),
            annotators=sorted({i.annotator for i in checked}),
            replaced=replaced,
        )
    return summary


def import_manifest(source: Path, *, actor: Any = None) -> MaskSummary:
    """Check every row of a manifest (mask paths relative to its folder), then store all."""
    source = Path(source)
    try:
        header, records = read_csv(source)
    except LabelError as exc:
        raise AnnotatorMaskError(exc.errors) from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise AnnotatorMaskError(
            [f"the manifest lacks column(s) {', '.join(missing)} (needs {', '.join(REQUIRED)})"]
        )
    if not records:
        raise AnnotatorMaskError(["the manifest has no rows"])
    errors: list[str] = []
    checked: list[_Checked] = []
    for number, row in records:
        name = _text(row, "path")
        path = (source.parent / name) if name else None
        problems, item = _check(f"row {number}", row, path)
        errors.extend(problems)
        if item is not None:
            checked.append(item)
    errors.extend(_order_problems(checked) if not errors else [])
    if errors:
        raise AnnotatorMaskError(errors)
    return _store(checked, actor=actor, source=source.name)


@contextlib.contextmanager
def _uploaded_path(upload: Any) -> Iterator[Path]:
    """An uploaded mask as a temporary file with its suffix (SimpleITK reads by extension)."""
    name = str(getattr(upload, "name", "") or "").lower()
    suffix = next((s for s in MASK_SUFFIXES if name.endswith(s)), "")
    if not suffix:
        raise AnnotatorMaskError(
            [f"upload: {name or 'the file'!r} is no .nii.gz, .nii or .dcm (DICOM SEG) file"]
        )
    with tempfile.TemporaryDirectory(prefix="rs-mask-") as tmp:
        path = Path(tmp) / f"mask{suffix}"
        with open(path, "wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        yield path


def import_upload(row: Mapping[str, Any], upload: Any, *, actor: Any = None) -> MaskSummary:
    """One uploaded mask with its row of fields (``case, annotator, session, date``...)."""
    with _uploaded_path(upload) as path:
        problems, item = _check("upload", {**row, "path": getattr(upload, "name", "")}, path)
    if item is not None:
        problems.extend(_order_problems([item]))
    if problems:
        raise AnnotatorMaskError(problems)
    return _store([item], actor=actor, source="upload")
