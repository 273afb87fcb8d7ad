"""Writes of ground truth from the web and the API (the labels CSV rules and storing)."""

from collections.abc import Callable
from typing import Any

from django.db import transaction

from .errors import TruthInvalid
from .labels import LabelSummary, import_labels_csv, store_truth, truth_problems
from .models import Case, GroundTruth
from .slice_labels import import_slice_labels_csv

KINDS: dict[str, Callable[[Any], LabelSummary]] = {
    "cases": import_labels_csv,
    "slices": import_slice_labels_csv,
}


def upload_labels(upload, kind: str = "cases") -> LabelSummary:
    """Store an uploaded labels CSV (all rows or none). Raises LabelError with every problem."""
    return KINDS[kind](upload)


def set_truth(case: Case, row: dict, *, source: str) -> GroundTruth:
    """Check a case's truth values as a labels-CSV row and store them in one transaction.

    Unlike the CSV, a blank ``site`` clears it and covariates are kept. Raises TruthInvalid.
    """
    problems = truth_problems(row)
    if problems:
        raise TruthInvalid(problems)
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        truth, _ = store_truth(locked, row, source=source, covariates=False, blank_site_keeps=False)
    case.site = locked.site
    return truth
