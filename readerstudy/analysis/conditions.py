"""Reading conditions: which one is the reference, and the order conditions are reported in.

Any condition name is allowed (``unaided``, ``aided``, ``second_read``...); ``model`` is reserved
for the model's own calls (a pseudo-reader). The reference is ``unaided`` unless another is
named. Order everywhere (tables, contrasts, JSON): the reference, then the other reader
conditions in the order they first appear in the read table, then ``model``. Differences are
always *later minus earlier*: ``aided - unaided``, ``model - unaided``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import combinations

import pandas as pd

MODEL = "model"
DEFAULT_REFERENCE = "unaided"
CONTRAST_MODES = ("reference", "pairwise")


def present_conditions(reads: pd.DataFrame) -> list[str]:
    """Condition names in order of first appearance."""
    return [str(c) for c in pd.unique(reads["condition"])]


def resolve_reference(conditions: Iterable[str], reference: str | None = None) -> str:
    """The reference condition: ``reference`` when given (it must be a reader condition of the
    table), else ``unaided``, else the only reader condition; with several reader conditions and
    none of them ``unaided`` a ValueError names them."""
    names = list(conditions)
    readers = [c for c in names if c != MODEL]
    if reference is not None:
        ref = str(reference).strip().lower()
        if ref == MODEL:
            raise ValueError(
                "the reference must be a reader condition, not 'model'; "
                f"conditions: {', '.join(readers)}"
            )
        if ref not in readers:
            raise ValueError(
                f"reference condition {ref!r} has no reads; conditions: {', '.join(readers)}"
            )
        return ref
    if DEFAULT_REFERENCE in readers:
        return DEFAULT_REFERENCE
    if len(readers) == 1:
        return readers[0]
    raise ValueError(
        f"no '{DEFAULT_REFERENCE}' reads: name the reference condition (--reference NAME, "
        f"ReportOptions.reference), one of: {', '.join(readers)}"
    )


def ordered_conditions(conditions: Iterable[str], reference: str) -> list[str]:
    """Reference first, then the other reader conditions as given, ``model`` last."""
    names = list(dict.fromkeys(conditions))
    others = [c for c in names if c not in (reference, MODEL)]
    return [reference, *others, *([MODEL] if MODEL in names else [])]


def contrast_pairs(ordered: Sequence[str], mode: str = "reference") -> list[tuple[str, str]]:
    """(earlier, later) pairs: each condition against the reference (``ordered[0]``), or every
    pair (``pairwise``). The contrast of a pair (a, b) is ``b - a``."""
    if mode not in CONTRAST_MODES:
        raise ValueError(f"contrasts must be one of {CONTRAST_MODES}, got {mode!r}")
    if mode == "reference":
        return [(ordered[0], c) for c in ordered[1:]]
    return list(combinations(ordered, 2))
