"""Practice cases of a study, its qualification rule, and each reader's practice standing.

Practice cases are not part of the analysed case set: they live in their own table, never as
``StudyCase`` rows, so no assignment, export, analysis input or progress count can hold them.
A case is either a study case or a practice case of a study, never both.

The rule decides when a reader's study sessions open (see ``reading.practice`` for the reads):

- ``none``: practice is offered before the study cases but not required (the reader may skip it);
- ``all_done``: every practice read of one attempt submitted;
- ``at_least``: at least ``min_correct`` of the practice cases answered correctly in one attempt,
  scored on the reader's unaided answer against the truth of the study's primary endpoint.

A reader who fails an attempt may try again (a new attempt: every practice case once more) while
attempts remain (``max_attempts``, 0 = unlimited). After the last one the sessions stay closed
until a coordinator grants one more attempt or qualifies the reader (both audited).
"""

from django.conf import settings
from django.db import models

from readerstudy.cases.models import Case

MAX_TASK_TEXT = 5_000


class PracticeRule(models.TextChoices):
    NONE = "none", "No rule: practice is optional"
    ALL_DONE = "all_done", "All practice cases done"
    AT_LEAST = "at_least", "At least k of the practice cases correct"


class PracticeSettings(models.Model):
    """A study's task description and practice rule (one row per study, made on first save)."""

    study = models.OneToOneField(
        "studies.ReaderStudy", on_delete=models.CASCADE, related_name="practice_settings"
    )
    task_text = models.TextField(
        blank=True, help_text="the reader's task, shown before the first case"
    )
    rule = models.CharField(max_length=16, choices=PracticeRule.choices, default=PracticeRule.NONE)
    min_correct = models.PositiveIntegerField(null=True, blank=True, help_text="k of at_least")
    max_attempts = models.PositiveIntegerField(
        default=2, help_text="attempts a reader has before a coordinator must grant one; 0 = any"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"practice of study {self.study_id}"


class PracticeCase(models.Model):
    study = models.ForeignKey(
        "studies.ReaderStudy", on_delete=models.CASCADE, related_name="practice_cases"
    )
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="practice_memberships")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["study_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "case"], name="unique_practice_case")
        ]

    def __str__(self) -> str:
        return f"practice case {self.case_id} of study {self.study_id}"


class PracticeStanding(models.Model):
    """A reader's qualification and the coordinator's grants; made when first needed."""

    class Via(models.TextChoices):
        RULE = "rule", "met the rule"
        GRANT = "grant", "granted by a coordinator"
        OPTIONAL = "optional", "practice optional: finished or skipped"

    reader = models.OneToOneField(
        "studies.StudyReader", on_delete=models.CASCADE, related_name="practice_standing"
    )
    extra_attempts = models.PositiveIntegerField(default=0, help_text="granted by a coordinator")
    qualified_at = models.DateTimeField(null=True, blank=True)
    qualified_via = models.CharField(max_length=16, choices=Via.choices, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"practice standing of reader {self.reader_id}"


def settings_of(study) -> PracticeSettings:
    """The study's practice settings (unsaved defaults when it has none yet)."""
    found = PracticeSettings.objects.filter(study=study).first()
    return found or PracticeSettings(study=study)


def task_text(study) -> str:
    """What the reader is told before the first case: the practice task text, else the
    study's description."""
    return settings_of(study).task_text or study.description or ""
