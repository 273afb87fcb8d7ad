"""Readers' practice answers (append-only, apart from the study's answers) and the gate.

A practice answer is never an ``AnswerRevision``: its rows cannot reach the reads exports, the
analysis inputs or the progress counts. Until the reader qualifies (``studies.practice``), the
reading services refuse to start or answer a study read (409 ``practice_required``); the check
costs no query of its own: the row lock of the reading services carries :data:`PENDING_SQL`.
"""

from django.db import models

from readerstudy.studies.errors import ProtocolConflict, StudyError
from readerstudy.studies.models import StudyReader
from readerstudy.studies.practice import PracticeCase, PracticeRule


class PracticeAnswer(models.Model):
    """One submitted practice read; rows are never changed or deleted."""

    reader = models.ForeignKey(
        StudyReader, on_delete=models.PROTECT, related_name="practice_answers"
    )
    practice_case = models.ForeignKey(
        PracticeCase, on_delete=models.PROTECT, related_name="answers"
    )
    attempt = models.PositiveSmallIntegerField(help_text="1-based; each attempt reads every case")
    condition = models.CharField(max_length=64, help_text="a condition code of the study")
    answers = models.JSONField()
    correct = models.BooleanField(
        null=True, help_text="primary endpoint vs truth; null when the truth does not settle it"
    )
    client_request_id = models.CharField(max_length=64)
    client_active_ms = models.PositiveBigIntegerField(null=True, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["reader_id", "attempt", "submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reader", "practice_case", "condition", "attempt"],
                name="unique_practice_read",
            ),
            models.UniqueConstraint(
                fields=["reader", "client_request_id"], name="unique_practice_request"
            ),
        ]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise StudyError("practice_append_only", "a practice answer cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise StudyError("practice_append_only", "a practice answer cannot be deleted")


# 1 when the assignment's study has a practice rule and practice cases and its reader is not
# qualified, else NULL; a column of the reading services' locked-assignment lookup.
PENDING_SQL = f"""(
    SELECT 1 FROM studies_practicesettings ps
    WHERE ps.study_id = a.study_id AND ps.rule <> '{PracticeRule.NONE.value}'
      AND EXISTS (SELECT 1 FROM studies_practicecase pc WHERE pc.study_id = a.study_id)
      AND NOT EXISTS (SELECT 1 FROM studies_practicestanding st
                      WHERE st.reader_id = a.reader_id AND st.qualified_at IS NOT NULL)
)"""


class PracticeRequired(ProtocolConflict):
    def __init__(self, study_id: int):
        super().__init__(
            "practice_required",
            "finish the study's practice cases (its qualification rule) before reading: "
            f"GET /api/reading/studies/{study_id}/practice/",
        )


def check_pending(assignment) -> None:
    """Refuse a read whose reader has not qualified (loaded by the lookup)."""
    if getattr(assignment, "practice_pending", None) is not None:
        raise PracticeRequired(assignment.study_id)
