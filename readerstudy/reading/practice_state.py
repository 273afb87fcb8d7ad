"""Where a reader stands in a study's practice: attempt, next read, score, qualification.

Each attempt reads every practice case in order, in the study's unaided condition and then
(if the design shows the model) its first aided condition. A case is correct when the reader's
unaided answer matches the truth of the study's primary endpoint: the aided answer follows the
feedback, which shows the truth.
"""

from dataclasses import dataclass, field

from readerstudy.studies.models import Design, ReaderStudy, StudyCondition, StudyReader
from readerstudy.studies.practice import (
    PracticeCase,
    PracticeRule,
    PracticeSettings,
    PracticeStanding,
    settings_of,
)

from .practice import PracticeAnswer

UNAIDED = "unaided"


class Status:
    NONE = "none"  # the study has no practice cases
    QUALIFIED = "qualified"  # the study's reads are open to the reader
    IN_PROGRESS = "in_progress"  # a practice read is next
    PASSED = "passed"  # the attempt met the rule (qualification is recorded with it)
    RETRY = "retry"  # the attempt failed; another one is allowed
    BLOCKED = "blocked"  # failed, no attempt left: a coordinator must grant one


@dataclass(frozen=True)
class Item:
    practice_case: PracticeCase
    condition: StudyCondition
    number: int  # 1-based place of the case in the practice


@dataclass
class PracticeState:
    study: ReaderStudy
    reader: StudyReader
    settings: PracticeSettings
    cases: list[PracticeCase]
    conditions: list[StudyCondition]
    standing: PracticeStanding | None
    attempt: int
    answers: list[PracticeAnswer] = field(default_factory=list)  # of ``attempt``
    attempts_used: int = 0

    @property
    def required(self) -> bool:
        return bool(self.cases) and self.settings.rule != PracticeRule.NONE

    @property
    def qualified(self) -> bool:
        return self.standing is not None and self.standing.qualified_at is not None

    @property
    def attempts_allowed(self) -> int | None:
        """None: any number."""
        if self.settings.max_attempts == 0:
            return None
        return self.settings.max_attempts + (self.standing.extra_attempts if self.standing else 0)

    @property
    def total_reads(self) -> int:
        return len(self.cases) * len(self.conditions)

    @property
    def complete(self) -> bool:
        return len(self.answers) >= self.total_reads > 0

    @property
    def correct(self) -> int:
        return sum(1 for a in self.answers if a.condition == UNAIDED and a.correct)

    @property
    def passed(self) -> bool:
        if not self.complete:
            return False
        if self.settings.rule == PracticeRule.AT_LEAST:
            return self.correct >= (self.settings.min_correct or 0)
        return True

    @property
    def status(self) -> str:
        if not self.cases:
            return Status.NONE
        if self.qualified:
            return Status.QUALIFIED
        if not self.complete:
            return Status.IN_PROGRESS
        if self.passed:
            return Status.PASSED
        allowed = self.attempts_allowed
        return Status.RETRY if allowed is None or self.attempt < allowed else Status.BLOCKED

    @property
    def next_attempt(self) -> int:
        """The attempt the next practice read belongs to."""
        return self.attempt + 1 if self.status == Status.RETRY else self.attempt

    def next_item(self) -> Item | None:
        status = self.status
        if status == Status.RETRY:
            done: set = set()
        elif status == Status.IN_PROGRESS:
            done = {(a.practice_case_id, a.condition) for a in self.answers}
        else:
            return None
        for number, case in enumerate(self.cases, start=1):
            for condition in self.conditions:
                if (case.pk, condition.code) not in done:
                    return Item(case, condition, number)
        return None

    def rule_text(self) -> str:
        n = len(self.cases)
        if self.settings.rule == PracticeRule.AT_LEAST:
            return (
                f"Answer at least {self.settings.min_correct} of the {n} practice cases "
                "correctly (your unaided answer) to open the study."
            )
        if self.settings.rule == PracticeRule.ALL_DONE:
            if n == 1:
                return "Read the practice case to open the study."
            return f"Read all {n} practice cases to open the study."
        return f"The {n} practice cases are optional: you may skip them."

    def message(self) -> str:
        status = self.status
        score = f"{self.correct} of {len(self.cases)} practice cases correct"
        if status == Status.RETRY:
            left = self.attempts_allowed
            more = "" if left is None else f" ({left - self.attempt} attempt(s) left)"
            return f"Not yet qualified: {score}. {self.rule_text()} Try the practice again{more}."
        if status == Status.BLOCKED:
            return (
                f"Not qualified: {score} after {self.attempt} attempt(s). {self.rule_text()} "
                "Your study cases stay closed; ask the study coordinator for another attempt."
            )
        if status == Status.PASSED or status == Status.QUALIFIED:
            return f"Practice complete ({score}): the study's cases are open."
        return self.rule_text()


def practice_conditions(study: ReaderStudy) -> list[StudyCondition]:
    """Unaided, then (a design that shows the model) the study's first aided condition."""
    conditions = list(study.conditions.all())
    chosen = [c for c in conditions if c.code == UNAIDED][:1]
    if study.design != Design.UNAIDED_ONLY:
        chosen += [c for c in conditions if c.is_aided][:1]
    return chosen


def practice_state(reader: StudyReader) -> PracticeState:
    study = reader.study
    cases = list(
        PracticeCase.objects.filter(study=study)
        .select_related("case__primary_series", "case__ground_truth")
        .order_by("order", "id")
    )
    answers = list(
        PracticeAnswer.objects.filter(reader=reader).order_by("attempt", "submitted_at", "id")
    )
    attempt = max((a.attempt for a in answers), default=1)
    return PracticeState(
        study=study,
        reader=reader,
        settings=settings_of(study),
        cases=cases,
        conditions=practice_conditions(study),
        standing=PracticeStanding.objects.filter(reader=reader).first(),
        attempt=attempt,
        answers=[a for a in answers if a.attempt == attempt],
        attempts_used=attempt if answers else 0,
    )


def reader_of(user, study: ReaderStudy) -> StudyReader | None:
    return StudyReader.objects.filter(study=study, user=user).select_related("study").first()
