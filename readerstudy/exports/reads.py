"""The READS table from the database: one row per reader x case x condition x analysis endpoint.

Columns follow the statistician's interface of ``readerstudy.analysis`` (reader, case,
condition, [endpoint], truth, decision, rating) plus timing, revision counts and the assistance
shown. By default a read is its final locked answer; ``revisions="all"`` gives every answer
revision of every read instead (with ``revision``, ``revision_kind`` and ``server_time``). The
model enters as a pseudo-reader (condition ``model``) at the study's operating point.
"""

from collections.abc import Iterator

import pandas as pd
from django.db.models import Count, Q

from readerstudy.reading.models import AnswerRevision, AssistanceExposure
from readerstudy.studies.endpoints import endpoint_values
from readerstudy.studies.models import Assignment, Endpoint, EndpointKind, ReaderStudy

from .model_reads import model_rows
from .model_reads import model_scores as model_scores
from .study_endpoints import has_endpoint_column, study_endpoints, truths_by_case

READ_COLUMNS = [
    "reader", "case", "condition", "truth", "decision", "rating", "session", "position",
    "specialty", "years_experience", "started_at", "locked_at", "active_ms", "n_revisions",
    "assistance_shown", "model_version", "answers", "n_assistance_views",
]  # fmt: skip
REVISION_COLUMNS = ["revision", "revision_kind", "server_time"]
REVISIONS = ("final", "all")

# Integer columns as pandas' nullable integers: the model's rows have no session or reader
# profile, and a float column would write "1.0" for session 1 in CSV.
INTEGER_COLUMNS = [
    "truth", "decision", "session", "position", "years_experience", "active_ms", "n_revisions",
    "n_assistance_views", "revision",
]  # fmt: skip


def read_columns(*, with_endpoint: bool, revisions: str = "final") -> list[str]:
    columns = list(READ_COLUMNS)
    if with_endpoint:
        columns.insert(columns.index("condition") + 1, "endpoint")
    if revisions == "all":
        at = columns.index("locked_at") + 1
        columns[at:at] = REVISION_COLUMNS
    return columns


def _assignments(study: ReaderStudy, revisions: str):
    query = Assignment.objects.filter(study=study)
    if revisions == "final":
        query = query.filter(state=Assignment.State.LOCKED)
    return (
        query.select_related("reader__user__reader_profile", "study_case__case", "session")
        .annotate(
            n_revisions=Count("revisions", filter=~Q(revisions__kind=AnswerRevision.Kind.LOCK))
        )
        .order_by("reader__user__username", "session__index", "position")
    )


def _exposures(study: ReaderStudy) -> tuple[dict, dict]:
    """One exposure per read (the first output shown) and the number of times it was served."""
    exposures: dict = {}
    views: dict = {}
    for e in AssistanceExposure.objects.filter(assignment__study=study).select_related(
        "model_version"
    ):
        exposures[e.assignment_id] = e
        views[e.assignment_id] = views.get(e.assignment_id, 0) + e.views
    return exposures, views


def _read_fields(a: Assignment, exposure, n_views) -> dict:
    profile = getattr(a.reader.user, "reader_profile", None)
    return {
        "reader": a.reader.user.username,
        "case": a.study_case.case.code,
        "condition": a.condition,
        "session": a.session.index,
        "position": a.position,
        "specialty": profile.specialty if profile else "",
        "years_experience": profile.years_experience if profile else None,
        "started_at": a.started_at,
        "locked_at": a.locked_at,
        "n_revisions": a.n_revisions,  # type: ignore[attr-defined]  # annotated
        "assistance_shown": exposure.shown if exposure else None,
        "model_version": str(exposure.model_version) if exposure else "",
        "n_assistance_views": n_views,
    }


def _endpoint_rows(base: dict, endpoints: list[Endpoint], answers: dict, truth) -> list[dict]:
    return [
        {
            **base,
            "endpoint": value.endpoint,
            "truth": value.truth,
            "decision": value.decision,
            "rating": value.rating,
            "answers": answers,
        }
        for endpoint in endpoints
        for value in endpoint_values(endpoint, answers, truth)
    ]


def _reads(
    study: ReaderStudy, revisions: str
) -> Iterator[tuple[Assignment, AnswerRevision | None]]:
    """(read, revision) pairs: the lock of each locked read, or every revision of every read."""
    found = AnswerRevision.objects.filter(assignment__study=study)
    if revisions == "final":
        found = found.filter(kind=AnswerRevision.Kind.LOCK)
    by_read: dict[int, list[AnswerRevision]] = {}
    for revision in found.order_by("assignment_id", "number"):
        by_read.setdefault(revision.assignment_id, []).append(revision)
    for a in _assignments(study, revisions):
        mine = by_read.get(a.pk, [])
        if revisions == "all":
            yield from ((a, r) for r in mine)
        else:
            yield a, (mine[-1] if mine else None)


def _frame(rows: list[dict], columns: list[str], endpoints: list[Endpoint]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    integers = {c: "Int64" for c in INTEGER_COLUMNS if c in frame}
    if any(ep.kind == EndpointKind.MULTI_CLASS for ep in endpoints):
        # class names and 0/1 in one column: text, as the analysis reads it
        for column in ("truth", "decision"):
            frame[column] = frame[column].map(lambda v: None if v is None else str(v))
            integers[column] = "string"
    return frame.astype(integers)


def reads_table(
    study: ReaderStudy, *, with_truth: bool, include_model: bool = True, revisions: str = "final"
) -> pd.DataFrame:
    """READS; ``truth`` only with ``with_truth``. ``revisions="all"``: every answer revision
    of every read (no model rows)."""
    if revisions not in REVISIONS:
        raise ValueError(f"revisions must be one of {REVISIONS}, not {revisions!r}")
    endpoints = study_endpoints(study)
    truths = truths_by_case(study) if with_truth else {}
    exposures, views = _exposures(study)
    rows = []
    for a, revision in _reads(study, revisions):
        answers = revision.answers if revision is not None else {}
        base = _read_fields(a, exposures.get(a.pk), views.get(a.pk))
        base["active_ms"] = revision.client_active_ms if revision is not None else None
        if revisions == "all" and revision is not None:
            base.update(
                revision=revision.number,
                revision_kind=revision.kind,
                server_time=revision.server_time,
            )
        rows += _endpoint_rows(base, endpoints, answers, truths.get(a.study_case.case_id))
    if include_model and revisions == "final":
        rows += model_rows(study, endpoints, truths, with_truth=with_truth)
    with_endpoint = has_endpoint_column(endpoints)
    frame = _frame(rows, read_columns(with_endpoint=True, revisions=revisions), endpoints)
    if not with_endpoint:
        frame = frame.drop(columns=["endpoint"])
    if not with_truth:
        frame = frame.drop(columns=["truth"])
    return frame
