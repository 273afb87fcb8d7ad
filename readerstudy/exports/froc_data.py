"""A study's lesion marks as FROC data: NL / LL records per reader x condition x case, scored
against the cases' truth lesions with the study's acceptance criterion (RJafroc's layout).

Readers are the readers' usernames, modalities the condition codes in the study's order, cases
the case codes. The data must be complete (every enrolled reader locked every case in every
condition): RJafroc's layout has no notion of a missing read, and treating one as "no marks"
would bias the figures of merit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from readerstudy.analysis.froc_io import MarkRecord, TruthRecord, records_to_xlsx
from readerstudy.analysis.froc_scoring import (
    Criterion,
    Geometry,
    Lesion,
    ScoringError,
    case_mark_records,
    case_truth_records,
    mark_from_answer,
)
from readerstudy.cases.lesion_selectors import case_geometry, case_lesions
from readerstudy.cases.models import HematomaMask, TruthLesion
from readerstudy.reading.models import AnswerRevision
from readerstudy.studies.errors import ProtocolConflict
from readerstudy.studies.models import Assignment, Question, QuestionType, ReaderStudy

from .models import LocalizationScoring

SHOWN = 10


@dataclass
class FrocData:
    truth: list[TruthRecord]
    marks: list[MarkRecord]
    readers: list[str]
    modalities: list[str]
    criterion: Criterion
    question: str
    n_reads: int = 0
    settings: dict = field(default_factory=dict)

    def xlsx(self) -> bytes:
        return records_to_xlsx(self.truth, self.marks, self.readers, self.modalities)


def scoring_of(study: ReaderStudy) -> LocalizationScoring:
    """The study's scoring settings (the defaults, unsaved, when none were stored)."""
    found = LocalizationScoring.objects.filter(study=study).first()
    return found or LocalizationScoring(study=study)


def marks_question(study: ReaderStudy, code: str = "") -> Question:
    questions = Question.objects.filter(study=study, type=QuestionType.MARKS).order_by(
        "order", "id"
    )
    if code:
        question = questions.filter(code=code).first()
        if question is None:
            raise ProtocolConflict("no_marks_question", f"the study has no marks question {code!r}")
        return question
    question = questions.first()
    if question is None:
        raise ProtocolConflict(
            "no_marks_question", "the study has no marks question: FROC data need lesion marks"
        )
    return question


def _shown(items: list[str]) -> str:
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


def _truth(study: ReaderStudy) -> tuple[list[TruthRecord], dict[int, list[Lesion]], dict]:
    cases = list(study.study_cases.select_related("case").order_by("case__code"))
    ids = [sc.case_id for sc in cases]
    with_lesions = set(
        TruthLesion.objects.filter(case_id__in=ids).values_list("case_id", flat=True)
    )
    masked = set(HematomaMask.objects.filter(case_id__in=ids).values_list("case_id", flat=True))
    unextracted = sorted(sc.case.code for sc in cases if sc.case_id in masked - with_lesions)
    if unextracted:
        raise ProtocolConflict(
            "lesions_missing",
            f"{len(unextracted)} case(s) have a hematoma mask but no truth lesions: "
            f"{_shown(unextracted)}. Run `manage.py import_lesions --from-masks` or import a "
            "lesions CSV.",
        )
    lesions = {sc.case_id: case_lesions(sc.case_id) for sc in cases}
    truth: list[TruthRecord] = []
    for sc in cases:
        truth += case_truth_records(sc.case.code, lesions[sc.case_id])
    return truth, lesions, {sc.case_id: sc.case.code for sc in cases}


def _check_complete(study: ReaderStudy, locked: list[Assignment]) -> None:
    missing = (
        Assignment.objects.filter(study=study)
        .exclude(state=Assignment.State.LOCKED)
        .select_related("reader__user", "study_case__case")
        .order_by("reader__user__username", "condition", "study_case__case__code")
    )
    items = [f"{a.reader.user.username}/{a.condition}/{a.study_case.case.code}" for a in missing]
    if items:
        raise ProtocolConflict(
            "reads_incomplete",
            f"FROC data need every read locked; {len(items)} are not (reader/condition/case): "
            f"{_shown(items)}",
        )
    if not locked:
        raise ProtocolConflict("no_reads", "the study has no locked reads")


def froc_data(study: ReaderStudy) -> FrocData:
    """Every locked read's marks scored as NL / LL records (raises ProtocolConflict naming what
    is missing or wrong)."""
    scoring = scoring_of(study)
    try:
        criterion = Criterion(scoring.criterion, scoring.radius_mm, scoring.use_lesion_radius)
    except ScoringError as exc:
        raise ProtocolConflict("invalid_scoring", str(exc)) from None
    question = marks_question(study, scoring.question_code)
    locked = list(
        Assignment.objects.filter(study=study, state=Assignment.State.LOCKED)
        .select_related("reader__user", "study_case__case")
        .order_by("reader__user__username", "condition", "study_case__case__code")
    )
    _check_complete(study, locked)
    truth, lesions, codes = _truth(study)
    answers: dict[int, dict] = {}
    for rev in AnswerRevision.objects.filter(
        assignment__study=study, kind=AnswerRevision.Kind.LOCK
    ).order_by("assignment_id", "number"):
        answers[rev.assignment_id] = rev.answers or {}
    geometries: dict[int, Geometry | None] = {}
    marks: list[MarkRecord] = []
    for a in locked:
        value = answers.get(a.pk, {}).get(question.code) or {}
        case_id = a.study_case.case_id
        case_lesion_list = lesions[case_id]
        needs_map = criterion.kind != "distance" and any(
            x.component is not None for x in case_lesion_list
        )
        if needs_map and case_id not in geometries:
            geometries[case_id] = case_geometry(case_id)
        try:
            items = [mark_from_answer(m) for m in value.get("marks") or []]
            marks += case_mark_records(
                a.reader.user.username,
                a.condition,
                codes[case_id],
                items,
                case_lesion_list,
                criterion,
                geometries.get(case_id),
            )
        except ScoringError as exc:
            raise ProtocolConflict(
                "unscorable_marks",
                f"reader {a.reader.user.username}, case {codes[case_id]}, condition "
                f"{a.condition}: {exc}",
            ) from None
    readers = sorted({a.reader.user.username for a in locked})
    order = list(study.conditions.order_by("order", "id").values_list("code", flat=True))
    used = {a.condition for a in locked}
    modalities = [c for c in order if c in used] + sorted(used - set(order))
    return FrocData(
        truth,
        marks,
        readers,
        modalities,
        criterion,
        question.code,
        len(locked),
        {
            "criterion": criterion.kind,
            "radius_mm": criterion.radius_mm,
            "use_lesion_radius": criterion.use_lesion_radius,
            "question": question.code,
        },
    )
