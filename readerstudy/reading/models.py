"""Answers as append-only revisions, and the record of what assistance a reader saw."""

from django.db import models
from django.utils import timezone

from readerstudy.studies.models import Assignment


class AnswerRevision(models.Model):
    """Every change of an answer is a new row; nothing is updated or deleted.

    ``kind`` says why the row exists: an autosaved draft, a submission, or the lock (a copy of
    the final answer, after which the assignment accepts nothing). Analyses use the lock row.
    """

    class Kind(models.TextChoices):
        DRAFT = "draft"
        SUBMIT = "submit"
        LOCK = "lock"

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    answers = models.JSONField()
    client_request_id = models.CharField(max_length=64, blank=True)
    client_active_ms = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="reader's active time on the case, as the client measured it",
    )
    server_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["assignment_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "number"], name="unique_revision_number"),
            models.UniqueConstraint(
                fields=["assignment", "client_request_id"],
                condition=~models.Q(client_request_id=""),
                name="unique_client_request",
            ),
        ]


class AssistanceExposure(models.Model):
    """Provenance of an aided read: which model version and output were shown, and when.

    One row per read and output, written when it was first shown (``shown``, ``served_at``);
    reloads of the same output count in ``views`` and move ``last_viewed_at``.
    """

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="exposures")
    model_version = models.ForeignKey("ai.ModelVersion", on_delete=models.PROTECT, related_name="+")
    inference_output = models.ForeignKey(
        "ai.InferenceOutput", on_delete=models.PROTECT, related_name="+"
    )
    shown = models.JSONField(
        help_text="what was shown: probability, decision, heatmap methods, mask"
    )
    served_at = models.DateTimeField(default=timezone.now, help_text="when it was first shown")
    views = models.PositiveIntegerField(default=1, help_text="times it was served to the reader")
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["assignment_id", "served_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "inference_output"], name="unique_exposure_per_output"
            )
        ]


from .consent import ConsentAcceptance  # noqa: E402, F401  (registers the model with the app)
from .practice import PracticeAnswer  # noqa: E402, F401  (the same)
from .segmentations import ReaderSegmentation  # noqa: E402, F401  (the same)
