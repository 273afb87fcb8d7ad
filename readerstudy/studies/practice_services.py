"""The coordinator's practice setup: cases, task text, rule, and grants to readers (audited).

Practice setup may change while the study is a draft or open (new readers may need it), never
once it is closed. A reader already qualified stays qualified when the rule changes later.
"""

from django.db import transaction
from django.utils import timezone

from readerstudy.audit.services import record
from readerstudy.cases.models import Case

from .errors import ProtocolConflict, StudyError
from .models import ReaderStudy, StudyReader
from .practice import (
    MAX_TASK_TEXT,
    PracticeCase,
    PracticeRule,
    PracticeSettings,
    PracticeStanding,
)


def _require_not_closed(study: ReaderStudy) -> None:
    if study.status == ReaderStudy.Status.CLOSED:
        raise ProtocolConflict("study_closed", "the study is closed: its practice cannot change")


def _lock_study(study: ReaderStudy) -> None:
    ReaderStudy.objects.select_for_update().filter(pk=study.pk).first()  # serialise edits


def _check_rule(rule: str, min_correct: int | None, n_cases: int) -> int | None:
    if rule not in PracticeRule.values:
        raise StudyError("practice_rule_unknown", f"unknown practice rule {rule!r}")
    if rule != PracticeRule.AT_LEAST:
        return None
    if min_correct is None or min_correct < 1:
        raise StudyError(
            "practice_min_correct", "the rule 'at least k correct' needs k of 1 or more"
        )
    if min_correct > n_cases:
        raise StudyError(
            "practice_min_correct",
            f"the rule asks for {min_correct} correct practice cases but the study has "
            f"{n_cases}; add practice cases or lower k",
        )
    return min_correct


@transaction.atomic
def configure(
    study: ReaderStudy,
    *,
    by,
    task_text: str,
    rule: str,
    min_correct: int | None = None,
    max_attempts: int = 2,
) -> PracticeSettings:
    """Save the study's task text and practice rule."""
    _require_not_closed(study)
    _lock_study(study)
    text = (task_text or "").replace("\r\n", "\n").strip()
    if len(text) > MAX_TASK_TEXT:
        raise StudyError(
            "task_text_too_long",
            f"the task text has {len(text)} characters; at most {MAX_TASK_TEXT}",
        )
    if max_attempts is None or max_attempts < 0:
        raise StudyError("practice_max_attempts", "max attempts must be 0 (any) or more")
    k = _check_rule(rule, min_correct, study.practice_cases.count())
    settings, _ = PracticeSettings.objects.get_or_create(study=study)
    before = {
        "task_text": settings.task_text,
        "rule": settings.rule,
        "min_correct": settings.min_correct,
        "max_attempts": settings.max_attempts,
    }
    settings.task_text, settings.rule = text, rule
    settings.min_correct, settings.max_attempts = k, max_attempts
    settings.save()
    after = {"task_text": text, "rule": rule, "min_correct": k, "max_attempts": max_attempts}
    changes = {f: [before[f], after[f]] for f in after if before[f] != after[f]}
    if changes:
        record(by, "practice.configure", settings, study=study, changes=changes)
    return settings


@transaction.atomic
def add_case(study: ReaderStudy, case: Case, *, by) -> PracticeCase:
    """Make ``case`` a practice case of the study (last in order)."""
    _require_not_closed(study)
    _lock_study(study)
    if case.status != Case.Status.READY:
        raise StudyError("case_not_ready", f"case {case.code} is {case.status}")
    if study.study_cases.filter(case=case).exists():
        raise StudyError(
            "practice_case_in_study",
            f"case {case.code} is a study case of this study; a practice case cannot also be "
            "analysed (remove it from the study's cases first, or pick another case)",
        )
    if study.practice_cases.filter(case=case).exists():
        raise StudyError("practice_case_exists", f"case {case.code} is already a practice case")
    if not hasattr(case, "ground_truth"):
        raise StudyError(
            "practice_truth_missing",
            f"case {case.code} has no truth: practice feedback shows the truth, add it first",
        )
    last = study.practice_cases.order_by("-order").values_list("order", flat=True).first()
    practice = PracticeCase.objects.create(
        study=study, case=case, order=0 if last is None else last + 1
    )
    record(by, "practice.case_add", practice, study=study, case=case.code)
    return practice


@transaction.atomic
def remove_case(study: ReaderStudy, case: Case, *, by) -> None:
    _require_not_closed(study)
    _lock_study(study)
    practice = study.practice_cases.filter(case=case).first()
    if practice is None:
        raise StudyError("practice_case_unknown", f"case {case.code} is not a practice case")
    if practice.answers.exists():
        raise ProtocolConflict(
            "practice_case_read",
            f"practice case {case.code} has readers' answers: it stays so that their practice "
            "record is complete",
        )
    settings = PracticeSettings.objects.filter(study=study).first()
    remaining = study.practice_cases.count() - 1
    if (
        settings
        and settings.rule == PracticeRule.AT_LEAST
        and (settings.min_correct or 0) > remaining
    ):
        raise StudyError(
            "practice_min_correct",
            f"the rule asks for {settings.min_correct} correct practice cases; removing "
            f"{case.code} would leave {remaining}: lower k first",
        )
    practice.delete()
    record(by, "practice.case_remove", study, study=study, case=case.code)


def _standing(reader: StudyReader) -> PracticeStanding:
    standing, _ = PracticeStanding.objects.select_for_update().get_or_create(reader=reader)
    return standing


@transaction.atomic
def grant_attempt(reader: StudyReader, *, by) -> PracticeStanding:
    """One more practice attempt for a reader who used theirs up."""
    _require_not_closed(reader.study)
    standing = _standing(reader)
    if standing.qualified_at is not None:
        raise ProtocolConflict("practice_qualified", f"{reader.user.username} is already qualified")
    standing.extra_attempts += 1
    standing.granted_by = by
    standing.save(update_fields=["extra_attempts", "granted_by"])
    record(
        by, "practice.grant_attempt", reader, study=reader.study_id,
        reader=reader.user.username, extra_attempts=standing.extra_attempts,
    )  # fmt: skip
    return standing


@transaction.atomic
def grant_qualification(reader: StudyReader, *, by) -> PracticeStanding:
    """Open the reader's study sessions whatever their practice results."""
    _require_not_closed(reader.study)
    standing = _standing(reader)
    if standing.qualified_at is not None:
        raise ProtocolConflict("practice_qualified", f"{reader.user.username} is already qualified")
    standing.qualified_at = timezone.now()
    standing.qualified_via = PracticeStanding.Via.GRANT
    standing.granted_by = by
    standing.save(update_fields=["qualified_at", "qualified_via", "granted_by"])
    record(
        by, "practice.grant_qualification", reader, study=reader.study_id,
        reader=reader.user.username,
    )  # fmt: skip
    return standing
