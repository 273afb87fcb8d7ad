"""Slice-level label CSV import (e.g. per-slice hemorrhage subtypes), validated row by row and
stored all-or-nothing in each case's ground truth.

One row per labelled slice. A case is named by ``case_code`` or by the *original*
``study_instance_uid`` (mapped with the keyed remap, never stored); the slice by ``slice`` (the
0-based position along the slice normal, as in the case's volume) or by the *original*
``sop_instance_uid``. Every other column is a label holding 0 or 1. Stored per case as
``{"labels": [...], "slices": {position: [positive labels]}}`` with every labelled slice present
(an empty list means labelled negative), replacing the case's earlier slice labels.
"""

from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.db import transaction

from readerstudy.core.jsontext import text_problem

from . import provenance
from .csvfiles import read_csv
from .dicom import UIDRemapper
from .errors import LabelError
from .labels import LabelSummary, find_case
from .models import Case, GroundTruth, Instance
from .secrets import deid_secret

IDENTIFYING = {"case_code", "study_instance_uid", "slice", "sop_instance_uid"}


def _position(row: dict, case: Case, remapper: UIDRemapper) -> tuple[int | None, str | None]:
    series = case.primary_series
    if series is None:
        return None, "the case has no primary series"
    raw = (row.get("slice") or "").strip()
    if raw:
        if not raw.isdigit():
            return None, f"'slice' must be a 0-based slice position, got {raw!r}"
        position = int(raw)
        if position >= series.num_slices:
            return None, f"slice {position} is outside the series (0..{series.num_slices - 1})"
        return position, None
    uid = (row.get("sop_instance_uid") or "").strip()
    if uid:
        found = (
            Instance.objects.filter(series=series, sop_instance_uid=remapper.remap(uid))
            .values_list("position", flat=True)
            .first()
        )
        if found is None:
            return None, "the sop_instance_uid is not a slice of the case's primary series"
        return found, None
    return None, "give 'slice' or 'sop_instance_uid'"


def import_slice_labels(csv_path: Path) -> int:
    """Validate every row, then store all cases' slice labels; returns the cases labelled."""
    return import_slice_labels_csv(csv_path).cases


def import_slice_labels_csv(source) -> LabelSummary:
    """Validate every row of a slice-labels CSV (a path or an uploaded file), then store them."""
    remapper = UIDRemapper(deid_secret(), settings.READERSTUDY_UID_PREFIX)
    errors: list[str] = []
    per_case: dict[int, dict[int, list[str]]] = defaultdict(dict)
    cases: dict[int, Case] = {}
    header, records = read_csv(source)
    labels = [name for name in header if name not in IDENTIFYING]
    if not ({"case_code", "study_instance_uid"} & set(header)) or not (
        {"slice", "sop_instance_uid"} & set(header)
    ):
        raise LabelError(
            ["the CSV needs 'case_code' or 'study_instance_uid', and 'slice' or 'sop_instance_uid'"]
        )
    if not labels:
        raise LabelError(["the CSV has no label columns"])
    for number, row in records:
        unreadable = [
            f"{column!r} {problem}"
            for column in IDENTIFYING
            if (problem := text_problem(row.get(column) or ""))
        ]
        if unreadable:
            errors.append(f"row {number}: {'; '.join(unreadable)}")
            continue
        case = find_case(row, remapper)
        if case is None:
            errors.append(f"row {number}: no imported case matches this row")
            continue
        position, problem = _position(row, case, remapper)
        if problem or position is None:
            errors.append(f"row {number}: {problem}")
            continue
        bad = [n for n in labels if (row.get(n) or "").strip() not in ("0", "1")]
        if bad:
            errors.append(f"row {number}: label column(s) {bad} must hold 0 or 1")
            continue
        if position in per_case[case.pk]:
            errors.append(f"row {number}: slice {position} of {case.code} is labelled twice")
            continue
        cases[case.pk] = case
        per_case[case.pk][position] = [n for n in labels if row[n].strip() == "1"]
    if errors:
        raise LabelError(errors)
    created = 0
    with transaction.atomic():
        for pk, slices in per_case.items():
            truth, _ = GroundTruth.objects.get_or_create(case=cases[pk])
            created += not truth.slice_labels
            truth.slice_labels = {
                "labels": labels,
                "slices": {str(p): slices[p] for p in sorted(slices)},
            }
            truth.provenance = {
                **truth.provenance,
                **provenance.imported(["slice_labels"], source="slice labels CSV"),
            }
            truth.save(update_fields=["slice_labels", "provenance", "updated_at"])
    return LabelSummary(len(per_case), created, "slice labels")
