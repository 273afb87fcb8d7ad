"""The READS table from the database: one row per reader x case x condition x analysis endpoint.

Columns follow the statistician's interface of ``readerstudy.analysis`` (reader, case,
condition, [endpoint], truth, decision, rating) plus timing, revision counts and the assistance
shown. By default a read is its final locked answer; ``revisions="all"`` gives every answer
revision of every read instead (with ``revision``, ``revision_kind`` and ``server_time``). The
model enters as a pseudo-reader (condition ``model``) at the study's operating point.
"""

from collections.abc import Iterator, Sequence

import pandas as pd
from django.db.models import Count

from readerstudy.ai.models import ModelVersion
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


# An assignment as the query below gives it (one tuple per read, no model instances: a study
# of 400,000 reads is read in seconds).
_ASSIGNMENT_VALUES = (
    "pk", "reader__user__username", "study_case__case__code", "study_case__case_id",
    "condition", "session__index", "position", "reader__user__reader_profile__specialty",
    "reader__user__reader_profile__years_experience", "started_at", "locked_at",
    "reader__user__reader_profile__id",
)  # fmt: skip
_WITHOUT_TIMES = tuple("pk" if v in ("started_at", "locked_at") else v for v in _ASSIGNMENT_VALUES)
_CHUNK = 5000
TIME_COLUMNS = {"started_at", "locked_at"}
EXPOSURE_COLUMNS = {"assistance_shown", "model_version", "n_assistance_views"}


def _assignments(study: ReaderStudy, revisions: str, times: bool):
    """``times``: with the start and lock times (else the read's id stands in their places:
    a table without those columns need not convert two times per read)."""
    query = Assignment.objects.filter(study=study)
    if revisions == "final":
        query = query.filter(state=Assignment.State.LOCKED)
    values = _ASSIGNMENT_VALUES if times else _WITHOUT_TIMES
    return (
        query.order_by("reader__user__username", "session__index", "position")
        .values_list(*values)
        .iterator(chunk_size=_CHUNK)
    )


def _revision_counts(study: ReaderStudy) -> dict[int, int]:
    """Per read, its answer revisions but the lock."""
    counts = (
        AnswerRevision.objects.filter(assignment__study=study)
        .exclude(kind=AnswerRevision.Kind.LOCK)
        .order_by()
        .values_list("assignment_id")
        .annotate(n=Count("id"))
    )
    return dict(counts.iterator(chunk_size=_CHUNK))


def _exposures(study: ReaderStudy) -> tuple[dict, dict]:
    """Per read, the (shown, model version) of the last output served, and the number of
    times assistance was served."""
    names = {m.pk: str(m) for m in ModelVersion.objects.all()}
    exposures: dict = {}
    views: dict = {}
    rows = (
        AssistanceExposure.objects.filter(assignment__study=study)
        .order_by("assignment_id", "served_at")
        .values_list("assignment_id", "shown", "model_version_id", "views")
    )
    for assignment_id, shown, version_id, n in rows.iterator(chunk_size=_CHUNK):
        exposures[assignment_id] = (shown, names[version_id])
        views[assignment_id] = views.get(assignment_id, 0) + n
    return exposures, views


def _read_fields(a: tuple, counts: dict, exposure, n_views) -> dict:
    (_pk, reader, case, _case_id, condition, session, position, specialty, years,
     started_at, locked_at, profile) = a  # fmt: skip
    return {
        "reader": reader,
        "case": case,
        "condition": condition,
        "session": session,
        "position": position,
        "specialty": specialty if profile is not None else "",
        "years_experience": years if profile is not None else None,
        "started_at": started_at,
        "locked_at": locked_at,
        "n_revisions": counts.get(_pk, 0),
        "assistance_shown": exposure[0] if exposure else None,
        "model_version": exposure[1] if exposure else "",
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


# A revision as (answers, client_active_ms[, number, kind, server_time with every revision]).
Revision = tuple


def _revisions(study: ReaderStudy, revisions: str) -> dict[int, list[Revision]]:
    found = AnswerRevision.objects.filter(assignment__study=study)
    columns = ["assignment_id", "answers", "client_active_ms"]
    if revisions == "final":
        found = found.filter(kind=AnswerRevision.Kind.LOCK)
    else:
        columns += ["number", "kind", "server_time"]
    by_read: dict[int, list[Revision]] = {}
    rows = found.order_by("assignment_id", "number").values_list(*columns)
    for assignment_id, *revision in rows.iterator(chunk_size=_CHUNK):
        by_read.setdefault(assignment_id, []).append(tuple(revision))
    return by_read


def _reads(
    study: ReaderStudy, revisions: str, times: bool
) -> Iterator[tuple[tuple, Revision | None]]:
    """(read, revision) pairs: the lock of each locked read, or every revision of every read."""
    by_read = _revisions(study, revisions)
    for a in _assignments(study, revisions, times):
        mine = by_read.get(a[0], [])
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
    study: ReaderStudy,
    *,
    with_truth: bool,
    include_model: bool = True,
    revisions: str = "final",
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """READS; ``truth`` only with ``with_truth``. ``revisions="all"``: every answer revision
    of every read (no model rows). ``columns``: only those of READS (in READS' order); what
    the others need (times, exposures, revision counts) is then not read at all."""
    if revisions not in REVISIONS:
        raise ValueError(f"revisions must be one of {REVISIONS}, not {revisions!r}")
    wanted = set(columns) if columns is not None else None
    times = wanted is None or bool(wanted & TIME_COLUMNS)
    endpoints = study_endpoints(study)
    truths = truths_by_case(study) if with_truth else {}
    exposures, views = (
        _exposures(study) if wanted is None or wanted & EXPOSURE_COLUMNS else ({}, {})
    )
    counts = _revision_counts(study) if wanted is None or "n_revisions" in wanted else {}
    rows = []
    for a, revision in _reads(study, revisions, times):
        answers = revision[0] if revision is not None else {}
        base = _read_fields(a, counts, exposures.get(a[0]), views.get(a[0]))
        base["active_ms"] = revision[1] if revision is not None else None
        if revisions == "all" and revision is not None:
            base.update(revision=revision[2], revision_kind=revision[3], server_time=revision[4])
        if not times:
            base["started_at"] = base["locked_at"] = None
        rows += _endpoint_rows(base, endpoints, answers, truths.get(a[3]))
    if include_model and revisions == "final":
        rows += model_rows(study, endpoints, truths, with_truth=with_truth)
    with_endpoint = has_endpoint_column(endpoints)
    frame = _frame(rows, read_columns(with_endpoint=True, revisions=revisions), endpoints)
    if not with_endpoint:
        frame = frame.drop(columns=["endpoint"])
    if not with_truth:
        frame = frame.drop(columns=["truth"])
    if wanted is not None:
        frame = frame[[c for c in frame.columns if c in wanted]]
    return frame
