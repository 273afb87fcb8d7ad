"""Provenance of truth values: how each field of a case's truth was established.

A truth value carries ``{"method", "annotators", "source", "at"}``. Imported labels (the CSV,
the case page) are ``import``; a truth panel's values are ``vote`` or ``adjudication`` with
the panel's annotators.
"""

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone


class Method:
    IMPORT = "import"
    VOTE = "vote"
    ADJUDICATION = "adjudication"


#: the truth fields that carry provenance, in display order
FIELDS = ("etiology", "ich_present", "subtypes", "location", "slice_labels")


def entry(
    method: str,
    *,
    source: str = "",
    annotators: Iterable[str] = (),
    at: datetime | None = None,
    adjudicator: str = "",
) -> dict:
    value = {
        "method": method,
        "annotators": list(annotators),
        "source": source,
        "at": (at or timezone.now()).isoformat(),
    }
    if adjudicator:
        value["adjudicator"] = adjudicator
    return value


def imported(fields: Iterable[str], *, source: str, at: datetime | None = None) -> dict:
    """Provenance of ``fields`` stored by an import at ``at`` (now)."""
    return {name: entry(Method.IMPORT, source=source, at=at) for name in fields}


def rows(provenance: dict) -> list[dict]:
    """The provenance as table rows in field order (for pages)."""
    return [{"field": name, **provenance[name]} for name in FIELDS if name in (provenance or {})]
