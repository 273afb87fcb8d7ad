"""Ground-truth label CSV import, validated row by row, stored all-or-nothing.

Rows identify a case by ``case_code`` or by the *original* ``study_instance_uid`` (mapped with
the site's keyed UID remap, so the original UID is never stored). Columns:

- ``label``: binary etiology (e.g. ``cvst_ich`` / ``sich``); ``truth`` (0/1) is checked against it
  when both are given;
- optional ``ich_present`` (0/1), ``subtypes`` (``;``-separated), ``location``, ``site``,
  ``mask`` (path relative to the CSV: a NIfTI on the series grid, or a binary DICOM SEG
  referencing the case's series, original or de-identified UIDs), ``mask_segment`` (which
  segment of a SEG holding several) and any ``covariate:<name>``.

Only the resulting mask is stored (as NIfTI on the series grid): a SEG carries identifying
header data and is read, checked and dropped.
"""

import csv
import hashlib
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk
from django.conf import settings
from django.db import transaction

from readerstudy.core.jsontext import text_problem

from . import provenance
from .csvfiles import read_csv
from .dicom import UIDRemapper
from .dicom.seg import SeriesGrid, is_dicom_file, seg_to_mask
from .errors import LabelError
from .models import Case, GroundTruth, HematomaMask, Series
from .secrets import deid_secret
from .storage import local_copy, save_content_addressed

KNOWN = {
    "case_code",
    "study_instance_uid",
    "label",
    "truth",
    "ich_present",
    "subtypes",
    "location",
    "site",
    "mask",
    "mask_segment",
}
IDENTIFYING = ("case_code", "study_instance_uid")
MAX_SUBTYPES = 20
MAX_SUBTYPE_LENGTH = 32
_Mask = tuple[np.ndarray, bytes]  # the mask array and its NIfTI bytes


@dataclass
class _Row:
    number: int
    case: Case
    values: dict


def find_case(row: dict, remapper: UIDRemapper) -> Case | None:
    if row.get("case_code"):
        return Case.objects.filter(code=row["case_code"].strip()).first()
    uid = (row.get("study_instance_uid") or "").strip()
    if uid:
        source_key = hashlib.sha256(remapper.remap(uid).encode()).hexdigest()
        return Case.objects.filter(source_key=source_key).first()
    return None


def _primary_series(case: Case) -> Series:
    series = case.primary_series
    if series is None:
        raise ValueError("the case has no primary series")
    return series


def _reference_volume(series: Series) -> sitk.Image:
    with local_copy(series.volume) as volume_path:
        return sitk.ReadImage(str(volume_path))


def _nifti_mask(path: Path, case: Case) -> tuple[np.ndarray, bytes]:
    image = sitk.ReadImage(str(path))
    reference = _reference_volume(_primary_series(case))
    if image.GetSize() != reference.GetSize():
        raise ValueError(
            f"mask size {image.GetSize()} differs from the series {reference.GetSize()}"
        )
    if not np.allclose(image.GetSpacing(), reference.GetSpacing(), atol=1e-3) or not np.allclose(
        image.GetOrigin(), reference.GetOrigin(), atol=1e-2
    ):
        raise ValueError("mask geometry (spacing/origin) differs from the series")
    return (sitk.GetArrayFromImage(image) > 0).astype(np.uint8), path.read_bytes()


def series_grid(series: Series) -> SeriesGrid:
    """The stored series' identity and slice positions, for checking a SEG against it."""
    rows = list(series.instances.order_by("position").values_list("sop_instance_uid", "metadata"))
    try:
        positions = np.array([[float(v) for v in md["00200032"]["Value"]] for _, md in rows])
    except (KeyError, TypeError, ValueError):
        raise ValueError("the series' slices have no ImagePositionPatient") from None
    return SeriesGrid(
        study_uid=series.study_instance_uid,
        series_uid=series.series_instance_uid,
        frame_of_reference_uid=series.frame_of_reference_uid,
        rows=series.rows,
        columns=series.columns,
        pixel_spacing=(series.pixel_spacing_row, series.pixel_spacing_col),
        orientation=tuple(float(v) for v in series.orientation),
        positions=positions.reshape(len(rows), 3),
        sop_uids=tuple(uid for uid, _ in rows),
    )


def _seg_mask(
    path: Path, case: Case, remapper: UIDRemapper, segment: int | None
) -> tuple[np.ndarray, bytes]:
    """A binary SEG as (mask, NIfTI bytes on the series grid); the SEG itself is not kept."""
    series = _primary_series(case)
    array = seg_to_mask(path, series_grid(series), remapper.remap, segment=segment)
    image = sitk.GetImageFromArray(array)
    image.CopyInformation(_reference_volume(series))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "mask.nii.gz"
        sitk.WriteImage(image, str(out), useCompression=True)
        return array, out.read_bytes()


def _mask_array(
    path: Path, case: Case, remapper: UIDRemapper, segment: int | None = None
) -> tuple[np.ndarray, bytes]:
    _primary_series(case)  # raises ValueError without one
    if is_dicom_file(path):
        return _seg_mask(path, case, remapper, segment)
    if segment is not None:
        raise ValueError("'mask_segment' applies to a DICOM SEG, not to a NIfTI mask")
    return _nifti_mask(path, case)


def read_mask(case: Case, path: Path, *, segment: int | None = None) -> tuple[np.ndarray, bytes]:
    """A mask file checked against the case's primary series, as the truth mask is: a binary
    DICOM SEG (original or de-identified UIDs) or a NIfTI on the series grid. Returns the 0/1
    array and its NIfTI bytes; raises ValueError (or RuntimeError from SimpleITK)."""
    remapper = UIDRemapper(deid_secret(), settings.READERSTUDY_UID_PREFIX)
    return _mask_array(Path(path), case, remapper, segment)


@dataclass(frozen=True)
class LabelSummary:
    """What a label CSV stored: cases labelled, of which ``created`` had no such labels yet."""

    cases: int
    created: int
    what: str = "labels"

    @property
    def updated(self) -> int:
        return self.cases - self.created

    @property
    def message(self) -> str:
        cases = "case" if self.cases == 1 else "cases"
        return f"{self.what} for {self.cases} {cases} stored; {self.created} new, {self.updated} updated"


def _value(row: Mapping, column: str) -> str:
    value = row.get(column)
    return value.strip() if isinstance(value, str) else ""


def subtypes_of(text: str) -> list[str]:
    return [s.strip() for s in text.split(";") if s.strip()]


def truth_problems(row: Mapping) -> list[tuple[str, str]]:
    """``(column, problem)`` for each value of a label row that cannot be stored.

    The one rule set for the labels CSV, the case page and the API (which send their values
    as a row: ``ich_present`` 0/1 or empty, ``subtypes`` ``;``-separated).
    """
    problems: list[tuple[str, str]] = []
    for column, value in row.items():
        problem = text_problem(value) if column and isinstance(value, str) else None
        if problem:
            problems.append((column, f"{column!r} {problem}"))
    label = _value(row, "label")
    if not label:
        problems.append(("label", "'label' is empty"))
    for column, text, limit in (
        ("label", label, _max_length(GroundTruth, "etiology")),
        ("location", _value(row, "location"), _max_length(GroundTruth, "location")),
        ("site", _value(row, "site"), _max_length(Case, "site")),
    ):
        if len(text) > limit:
            problems.append((column, f"{column!r} is longer than {limit} characters"))
    for column in ("truth", "ich_present"):
        value = _value(row, column)
        if value and value not in ("0", "1"):
            problems.append((column, f"{column!r} must be 0 or 1, got {value!r}"))
    subtypes = subtypes_of(_value(row, "subtypes"))
    if len(subtypes) > MAX_SUBTYPES:
        problems.append(("subtypes", f"'subtypes' lists more than {MAX_SUBTYPES}"))
    if any(len(s) > MAX_SUBTYPE_LENGTH for s in subtypes):
        problems.append(("subtypes", f"a subtype is longer than {MAX_SUBTYPE_LENGTH} characters"))
    return problems


def _max_length(model, field: str) -> int:
    return model._meta.get_field(field).max_length


def import_labels(csv_path: Path, *, require_all: bool = True) -> int:
    """Validate every row, then store all of them; returns the number of cases labelled."""
    return import_labels_csv(
        csv_path, base_dir=Path(csv_path).parent, require_all=require_all
    ).cases


def import_labels_csv(
    source, *, base_dir: Path | None = None, require_all: bool = True
) -> LabelSummary:
    """Validate every row of a labels CSV (a path or an uploaded file), then store all of them.

    ``mask`` files are looked up in ``base_dir`` (the CSV's folder); an upload has none, so a
    row naming a mask is refused there. Raises LabelError with every row's problems.
    """
    remapper = UIDRemapper(deid_secret(), settings.READERSTUDY_UID_PREFIX)
    errors: list[str] = []
    rows: list[_Row] = []
    masks: dict[int, _Mask] = {}
    header, records = read_csv(source)
    if not ({"case_code", "study_instance_uid"} & set(header)) or "label" not in header:
        raise LabelError(["the CSV needs a 'label' column and 'case_code' or 'study_instance_uid'"])
    for number, row in records:
        problems, case, mask = _check_row(row, remapper, base_dir, require_all)
        errors.extend(f"row {number}: {problem}" for problem in problems)
        if case is None:
            continue
        if mask is not None:
            masks[number] = mask
        rows.append(_Row(number, case, row))
    if errors:
        raise LabelError(errors)
    return _store_rows(rows, masks)


def _check_row(
    row: dict, remapper: UIDRemapper, base_dir: Path | None, require_all: bool
) -> tuple[list[str], Case | None, _Mask | None]:
    """(problems, the case, its mask) for one row; no case when the row names none."""
    problems = truth_problems(row)
    unreadable = [p for column, p in problems if column in IDENTIFYING]
    if unreadable:
        return unreadable, None, None
    case = find_case(row, remapper)
    if case is None:
        return (["no imported case matches this row"] if require_all else []), None, None
    mask_problems, mask = _row_mask(row, case, remapper, base_dir)
    return [problem for _, problem in problems] + mask_problems, case, mask


def _row_mask(
    row: dict, case: Case, remapper: UIDRemapper, base_dir: Path | None
) -> tuple[list[str], _Mask | None]:
    """(problems, the mask) of a row's ``mask`` and ``mask_segment`` columns."""
    problems: list[str] = []
    mask = None
    segment = _value(row, "mask_segment")
    if segment and not segment.isdigit():
        problems.append("'mask_segment' must be a segment number")
        segment = ""
    mask_name = _value(row, "mask")
    if base_dir is None:
        if mask_name:
            problems.append(
                "masks are not sent with an uploaded CSV; import them with "
                "'manage.py import_cases --labels' or 'manage.py import_seg'"
            )
    else:
        mask_name = mask_name or _conventional_mask(row, base_dir)
        if mask_name:
            problem, mask = _load_mask(
                base_dir, mask_name, case, remapper, int(segment) if segment else None
            )
            problems.extend([problem] if problem else [])
    if segment and not mask_name:
        problems.append("'mask_segment' given without a 'mask'")
    return problems, mask


def _conventional_mask(row: dict, base_dir: Path) -> str:
    """``<case_id>_mask.nii.gz`` next to the CSV (the phantom generator's layout), or ""."""
    case_id = _value(row, "case_id")
    conventional = f"{case_id}_mask.nii.gz"
    return conventional if case_id and (base_dir / conventional).is_file() else ""


def _load_mask(
    base_dir: Path, mask_name: str, case: Case, remapper: UIDRemapper, segment: int | None
) -> tuple[str | None, _Mask | None]:
    """(problem, mask) of the mask file a row names."""
    mask_path = (base_dir / mask_name).resolve()
    if not mask_path.is_file():
        return f"mask file {mask_name!r} not found", None
    try:
        return None, _mask_array(mask_path, case, remapper, segment)
    except (RuntimeError, ValueError) as exc:
        return f"mask {mask_name!r}: {exc}", None


def _store_rows(rows: list[_Row], masks: dict[int, _Mask]) -> LabelSummary:
    """Store checked rows and their masks in one transaction."""
    created: set[int] = set()
    with transaction.atomic():
        for row in rows:  # a case named twice takes its last row, as it always did
            _, new = store_truth(row.case, row.values, source="label csv")
            if new:
                created.add(row.case.pk)
            if masks.get(row.number) is not None:
                _store_mask(row.case, masks[row.number])
    return LabelSummary(len({row.case.pk for row in rows}), len(created))


def store_truth(
    case: Case, row: Mapping, *, source: str, covariates: bool = True, blank_site_keeps: bool = True
) -> tuple[GroundTruth, bool]:
    """Store a checked label row as the case's ground truth: (truth, whether it is new).

    ``covariates``: replace them with the row's ``covariate:<name>`` columns (the CSV) or keep
    them (the case page). A blank ``site`` keeps the case's site unless ``blank_site_keeps`` is
    False. Slice labels are kept either way.
    """
    defaults: dict[str, Any] = {
        "etiology": _value(row, "label"),
        "ich_present": None
        if not _value(row, "ich_present")
        else _value(row, "ich_present") == "1",
        "subtypes": subtypes_of(_value(row, "subtypes")),
        "location": _value(row, "location"),
        "source": source,
    }
    if covariates:
        defaults["covariates"] = {
            k.split(":", 1)[1]: _value(row, k)
            for k in row
            if isinstance(k, str) and k.startswith("covariate:")
        }
    existing = GroundTruth.objects.filter(case=case).values_list("provenance", flat=True).first()
    defaults["provenance"] = {
        **(existing or {}),
        **provenance.imported(("etiology", "ich_present", "subtypes", "location"), source=source),
    }
    truth, created = GroundTruth.objects.update_or_create(case=case, defaults=defaults)
    site = _value(row, "site")
    if (site or not blank_site_keeps) and site != case.site:
        case.site = site
        case.save(update_fields=["site"])
    return truth, created


def _store_mask(case: Case, mask: tuple[np.ndarray, bytes]) -> None:
    array, data = mask
    name, _ = save_content_addressed("masks", data, ".nii.gz")
    series = _primary_series(case)
    voxel_ml = series.pixel_spacing_row * series.pixel_spacing_col * series.slice_spacing / 1000
    HematomaMask.objects.update_or_create(
        case=case,
        defaults={
            "series": series,
            "file": name,
            "voxels": int(array.sum()),
            "volume_ml": float(array.sum() * voxel_ml),
        },
    )


def import_mask(case: Case, path: Path, *, segment: int | None = None) -> HematomaMask:
    """Check a mask file (binary DICOM SEG or NIfTI) against the case's primary series and
    store it as the case's hematoma mask (replacing an earlier one); the SEG is not kept."""
    remapper = UIDRemapper(deid_secret(), settings.READERSTUDY_UID_PREFIX)
    mask = _mask_array(Path(path), case, remapper, segment)
    with transaction.atomic():
        _store_mask(case, mask)
    return HematomaMask.objects.get(case=case)


def unknown_columns(csv_path: Path) -> list[str]:
    with open(csv_path, newline="") as handle:
        header = next(csv.reader(handle), [])
    return [
        h
        for h in header
        if h not in KNOWN
        and not h.startswith("covariate:")
        and h not in ("case_id", "series_instance_uid")
    ]


__all__ = [
    "LabelSummary",
    "import_labels",
    "import_labels_csv",
    "import_mask",
    "read_mask",
    "store_truth",
    "truth_problems",
    "unknown_columns",
]
