"""The reader's practice writes: submit a practice answer (idempotent), finish or skip.

A submission must be the practice's next read (unaided before aided, cases in order); it is
scored, stored append-only and answered with the feedback. The attempt's last read settles
the rule: met, the reader's qualification is recorded and the study's reads open.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from readerstudy.studies.errors import NotAvailable, ProtocolConflict, StudyError
from readerstudy.studies.models import ReaderStudy, StudyReader
from readerstudy.studies.practice import PracticeRule, PracticeStanding
from readerstudy.studies.questions import AnswerError
from readerstudy.studies.selectors import answer_validator

from . import consent
from .practice import PracticeAnswer
from .practice_feedback import (
    NO_HEATMAP,
    aided_config,
    feedback,
    heatmap_url,
    is_correct,
    practice_heatmap,
)
from .practice_state import UNAIDED, PracticeState, Status, practice_state
from .rows import bigint


@dataclass(frozen=True)
class PracticeResult:
    answer: PracticeAnswer
    created: bool
    feedback: dict
    state: PracticeState


def _reader(user, study_id: int, *, lock: bool = False) -> StudyReader:
    if bigint(study_id) is None:  # SQLite cannot bind an id beyond the column's range
        raise NotAvailable("not_found", "no such study")
    qs = StudyReader.objects.filter(
        study_id=study_id, user=user, study__status=ReaderStudy.Status.OPEN
    ).select_related("study")
    reader = (qs.select_for_update(of=("self",)) if lock else qs).first()
    if reader is None:
        raise NotAvailable("not_found", "no such study")
    state = consent.consent_state(user, reader.study)
    if state.required and not state.accepted and state.version is not None:
        raise consent.ConsentRequired(reader.study_id, state.version.number)
    return reader


def my_practice(user, study_id: int) -> PracticeState:
    """The reader's practice state in an open study of theirs."""
    return practice_state(_reader(user, study_id))


def _aided_condition(state: PracticeState):
    return next((c for c in state.conditions if c.is_aided), None)


def _feedback(state: PracticeState, practice_case_id: int, answers: list) -> dict:
    case = next((c for c in state.cases if c.pk == practice_case_id), None)
    given = {a.condition: a.answers for a in answers if a.practice_case_id == practice_case_id}
    if case is None or not given:
        raise NotAvailable("not_found", "no feedback: answer this practice case first")
    return feedback(
        state.study, case, given, aided_condition=_aided_condition(state),
        url_for=heatmap_url(state.study.pk),
    )  # fmt: skip


def _open_answers(state: PracticeState) -> list:
    """The answers of the attempt being read: none once a new attempt is next (its unaided
    reads must not see the truth or the model output again before their own answers)."""
    return [] if state.status == Status.RETRY else state.answers


def case_feedback(state: PracticeState, practice_case_id: int) -> dict:
    """Feedback on a practice case of the reader's own study that the reader has answered in
    the attempt being read; anything else is not found (no truth leaves without an answer)."""
    return _feedback(state, practice_case_id, _open_answers(state))


def case_heatmap(user, study_id: int, practice_case_id: int, method: str, label: str):
    """(descriptor, bytes) of a heatmap of a practice case whose unaided practice answer the
    reader has stored in the attempt being read, where the practice's aided condition shows
    that heatmap; anything else is not found, with the same message whatever the reason."""
    state = my_practice(user, study_id)
    case = next((c for c in state.cases if c.pk == practice_case_id), None)
    unaided_done = any(
        a.practice_case_id == practice_case_id and a.condition == UNAIDED
        for a in _open_answers(state)
    )
    if case is None or not unaided_done:
        raise NO_HEATMAP
    return practice_heatmap(aided_config(_aided_condition(state)), case, method, label)


def _replayed(state: PracticeState, existing: PracticeAnswer) -> dict:
    """The feedback of a repeated submission: that of the answer it stored, from its own
    attempt (the reader received it with the first response)."""
    answers = [a for a in state.answers if a.attempt == existing.attempt] or [existing]
    return _feedback(state, existing.practice_case_id, answers)


def _qualify(reader: StudyReader, via: str) -> None:
    standing, _ = PracticeStanding.objects.get_or_create(reader=reader)
    if standing.qualified_at is None:
        standing.qualified_at = timezone.now()
        standing.qualified_via = via
        standing.save(update_fields=["qualified_at", "qualified_via"])


def submit(
    user,
    study_id: int,
    *,
    practice_case_id: int,
    condition: str,
    answers: dict,
    client_request_id: str,
    active_ms: int | None = None,
) -> PracticeResult:
    try:
        return _submit(
            user, study_id, practice_case_id, condition, answers, client_request_id, active_ms
        )
    except IntegrityError:  # a concurrent request with the same id won the race
        reader = _reader(user, study_id)
        existing = PracticeAnswer.objects.get(reader=reader, client_request_id=client_request_id)
        state = practice_state(reader)
        return PracticeResult(existing, False, _replayed(state, existing), state)


@transaction.atomic
def _submit(user, study_id, practice_case_id, condition, answers, client_request_id, active_ms):
    reader = _reader(user, study_id, lock=True)  # serialises the reader's practice writes
    existing = PracticeAnswer.objects.filter(
        reader=reader, client_request_id=client_request_id
    ).first()
    if existing is not None:
        if existing.answers != answers:
            raise ProtocolConflict(
                "request_id_reused", "this client_request_id was used for a different answer"
            )
        state = practice_state(reader)
        return PracticeResult(existing, False, _replayed(state, existing), state)
    state = practice_state(reader)
    item = state.next_item()
    if item is None:
        raise ProtocolConflict("practice_closed", f"no practice read is open: {state.message()}")
    if item.practice_case.pk != practice_case_id or item.condition.code != condition:
        raise ProtocolConflict(
            "practice_out_of_order",
            f"the next practice read is case {item.number} ({item.condition.name}); "
            "practice cases are read in order, unaided before aided",
        )
    try:
        answer_validator(state.study).validate(answers, complete=True)
    except AnswerError as exc:
        raise StudyError(exc.code, str(exc)) from None
    truth = getattr(item.practice_case.case, "ground_truth", None)
    answer = PracticeAnswer.objects.create(
        reader=reader,
        practice_case=item.practice_case,
        attempt=state.next_attempt,
        condition=condition,
        answers=answers,
        correct=is_correct(state.study, answers, truth),
        client_request_id=client_request_id,
        client_active_ms=active_ms,
    )
    state = practice_state(reader)
    if state.status == Status.PASSED:
        none = state.settings.rule == PracticeRule.NONE
        _qualify(reader, PracticeStanding.Via.OPTIONAL if none else PracticeStanding.Via.RULE)
        state = practice_state(reader)
    return PracticeResult(answer, True, _feedback(state, practice_case_id, state.answers), state)


@transaction.atomic
def finish(user, study_id: int) -> PracticeState:
    """Go on to the study's reads: skip an optional practice, or record a passed attempt."""
    reader = _reader(user, study_id, lock=True)
    state = practice_state(reader)
    if state.status in (Status.QUALIFIED, Status.NONE):
        return state
    if state.settings.rule == PracticeRule.NONE:
        _qualify(reader, PracticeStanding.Via.OPTIONAL)
    elif state.status == Status.PASSED:
        _qualify(reader, PracticeStanding.Via.RULE)
    else:
        raise ProtocolConflict("practice_required", state.message())
    return practice_state(reader)
