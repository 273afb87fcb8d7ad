"""The reader's write paths: start, autosave, submit (idempotent), lock.

What each may do when is the reading protocol's (:mod:`.protocol`); refusals are answered with
its reason's code and message.

Every call locks the assignment row (SELECT ... FOR UPDATE) so that double clicks, retries and
concurrent requests are serialised; a submission carries a client request id, and a repeated id
returns the revision already recorded instead of writing another.

A submission is one transaction of four statements: lock the assignment (with its study,
session and prerequisite), read the revision with this request id and the last revision number
(one query, after the lock, so it sees every committed revision), insert the submission and, with
``lock``, the lock row (one INSERT), and update the assignment's state.
"""

from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from readerstudy.studies.errors import NotAvailable, ProtocolConflict, StudyError
from readerstudy.studies.models import Assignment
from readerstudy.studies.questions import AnswerError
from readerstudy.studies.selectors import answer_validator

from . import consent, lookups, marks, practice, protocol, segmentations
from .availability import decide
from .models import AnswerRevision
from .selectors import REVISION, last_revision

State = Assignment.State


@dataclass(frozen=True)
class SubmitResult:
    revision: AnswerRevision
    created: bool


# The revision already recorded for a request id (if any) and the last one: read after the lock,
# so it sees every committed revision.
_REQUEST_AND_LAST_SQL = f"""
    SELECT {REVISION.columns} FROM reading_answerrevision v
    WHERE v.assignment_id = %s AND (v.client_request_id = %s OR v.number = (
        SELECT MAX(number) FROM reading_answerrevision WHERE assignment_id = %s))
"""
# Whether the aided view's model output was served for this read (its provenance record).
_SHOWN_SQL = "SELECT 1 FROM reading_assistanceexposure WHERE assignment_id = %s LIMIT 1"


def _locked_assignment(user, assignment_id: int, *, workspace=False) -> Assignment:
    """The reader's assignment, locked, with what the protocol's facts need (study status and
    validator, session opening, prerequisite; joined, not queried); ``workspace``: and what
    the reading workspace shows (case, images)."""
    assignment = lookups.locked(user.pk, assignment_id, workspace=workspace)
    if assignment is None:
        raise NotAvailable("not_found", "no such assignment")
    consent.check_pending(assignment)
    practice.check_pending(assignment)
    return assignment


def _request_and_last(assignment: Assignment, request_id: str) -> list[AnswerRevision]:
    return REVISION.all(_REQUEST_AND_LAST_SQL, [assignment.pk, request_id, assignment.pk])


def _shown(assignment: Assignment) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(_SHOWN_SQL, [assignment.pk])
        return cursor.fetchone() is not None


def _check(action: str, assignment: Assignment, **facts) -> None:
    decision = decide(action, assignment, **facts)
    if not decision.allowed:
        raise ProtocolConflict(decision.error_code, decision.message)


def _next_number(assignment: Assignment) -> int:
    last = last_revision(assignment.pk)
    return (last.number if last else 0) + 1


def _validate(assignment: Assignment, answers, *, complete: bool) -> None:
    try:
        answer_validator(assignment.study).validate(answers, complete=complete)
    except AnswerError as exc:
        raise StudyError(exc.code, str(exc)) from None
    if answer_validator(assignment.study).has_marks:
        marks.check_marks(assignment, assignment.study.questions.all(), answers)


@transaction.atomic
def start(user, assignment_id: int) -> Assignment:
    assignment = _locked_assignment(user, assignment_id, workspace=True)
    _check(protocol.START, assignment)
    if assignment.state == State.PENDING:
        assignment.state = State.IN_PROGRESS
        assignment.started_at = timezone.now()
        assignment.save(update_fields=["state", "started_at"])
    return assignment


@transaction.atomic
def save_draft(user, assignment_id: int, answers: dict, *, active_ms: int | None = None):
    assignment = _locked_assignment(user, assignment_id)
    _check(protocol.SAVE_DRAFT, assignment)
    _validate(assignment, answers, complete=False)
    return AnswerRevision.objects.create(
        assignment=assignment,
        number=_next_number(assignment),
        kind=AnswerRevision.Kind.DRAFT,
        answers=answers,
        client_active_ms=active_ms,
    )


def submit(
    user,
    assignment_id: int,
    answers: dict,
    *,
    client_request_id: str,
    active_ms: int | None = None,
    lock: bool = False,
) -> SubmitResult:
    if not client_request_id or len(client_request_id) > 64:
        raise StudyError("bad_request_id", "client_request_id is required (at most 64 characters)")
    try:
        return _submit(user, assignment_id, answers, client_request_id, active_ms, lock)
    except IntegrityError:
        # A concurrent request with the same id won the race between our check and insert.
        existing = AnswerRevision.objects.get(
            assignment_id=assignment_id, client_request_id=client_request_id
        )
        return SubmitResult(existing, False)


@transaction.atomic
def _submit(user, assignment_id, answers, client_request_id, active_ms, lock) -> SubmitResult:
    assignment = _locked_assignment(user, assignment_id)
    rows = _request_and_last(assignment, client_request_id)
    existing = next((r for r in rows if r.client_request_id == client_request_id), None)
    if existing is not None:
        if existing.answers != answers:
            raise ProtocolConflict(
                "request_id_reused", "this client_request_id was used for a different answer"
            )
        return SubmitResult(existing, False)
    shown = _shown(assignment) if protocol.is_aided(assignment.condition) else None
    _check(protocol.SUBMIT, assignment, assistance_shown=shown)
    _validate(assignment, answers, complete=True)
    number = max((r.number for r in rows), default=0) + 1
    revision = AnswerRevision(
        assignment=assignment,
        number=number,
        kind=AnswerRevision.Kind.SUBMIT,
        answers=answers,
        client_request_id=client_request_id,
        client_active_ms=active_ms,
    )
    now = timezone.now()
    assignment.state = State.SUBMITTED
    assignment.submitted_at = now
    fields = ["state", "submitted_at"]
    new_rows = [revision]
    if lock:
        new_rows.append(_lock_row(assignment, revision, number + 1))
        assignment.state = State.LOCKED
        assignment.locked_at = now
        fields.append("locked_at")
    AnswerRevision.objects.bulk_create(new_rows)
    assignment.save(update_fields=fields)
    return SubmitResult(revision, True)


@transaction.atomic
def lock(user, assignment_id: int) -> AnswerRevision:
    assignment = _locked_assignment(user, assignment_id)
    _check(protocol.LOCK, assignment)
    if assignment.state == State.LOCKED:
        return assignment.revisions.get(kind=AnswerRevision.Kind.LOCK)
    return _lock(assignment)


def _lock_row(assignment: Assignment, final: AnswerRevision, number: int) -> AnswerRevision:
    """The lock revision: a copy of the final submission, after which nothing is accepted."""
    return AnswerRevision(
        assignment=assignment,
        number=number,
        kind=AnswerRevision.Kind.LOCK,
        answers=final.answers,
        client_request_id="",
        client_active_ms=final.client_active_ms,
    )


def _lock(assignment: Assignment) -> AnswerRevision:
    final = assignment.revisions.filter(kind=AnswerRevision.Kind.SUBMIT).order_by("-number").first()
    if final is None:  # a submitted read has its submission; refused as the protocol words it
        raise ProtocolConflict(protocol.NOT_SUBMITTED.error_code, protocol.NOT_SUBMITTED.message)
    revision = _lock_row(assignment, final, _next_number(assignment))
    revision.save(force_insert=True)
    assignment.state = State.LOCKED
    assignment.locked_at = timezone.now()
    assignment.save(update_fields=["state", "locked_at"])
    return revision


def upload_segmentation(
    user, assignment_id: int, question: str, body: bytes, content_type: str, shape: str | None
):
    """Store a reader's mask for a marks question (see :mod:`.segmentations`); while the read
    still accepts drafts. The mask is checked before the assignment is locked."""
    found = lookups.mine(user.pk, assignment_id, with_images=True)
    if found is None:
        raise NotAvailable("not_found", "no such assignment")
    series = found.study_case.case.primary_series
    if series is None:
        raise StudyError("invalid_segmentation", "the case has no series to segment")
    segmentations.marks_question(found, question)
    array, reference = segmentations.mask_array(body, content_type, shape, series)
    with transaction.atomic():
        assignment = _locked_assignment(user, assignment_id)
        _check(protocol.SAVE_DRAFT, assignment)
        return segmentations.record(assignment, question, series, array, reference)
