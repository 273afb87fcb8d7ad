"""Model registry, inference jobs and their outputs."""

import uuid

from django.conf import settings
from django.db import models

from readerstudy.cases.models import Case, Series


class ModelVersion(models.Model):
    """A registered model plug-in version (its manifest is validated, never evaluated)."""

    model_id = models.CharField(max_length=100)
    version = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    manifest = models.JSONField()
    weights_sha256 = models.CharField(max_length=64)
    positive_label = models.CharField(max_length=32)
    operating_points = models.JSONField(help_text="{name: threshold}")
    explainers = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model_id", "-registered_at"]
        constraints = [
            models.UniqueConstraint(fields=["model_id", "version"], name="unique_model_version")
        ]

    def __str__(self) -> str:
        return f"{self.model_id} {self.version}"


class InferenceJob(models.Model):
    """One case x model version x parameters. Re-requesting the same triple reuses the job."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="inference_jobs")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="+")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="jobs")
    params = models.JSONField(default=dict)
    params_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    worker_host = models.CharField(max_length=255, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    versions = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "model_version", "params_hash"], name="unique_inference"
            )
        ]


class InferenceOutput(models.Model):
    job = models.OneToOneField(InferenceJob, on_delete=models.CASCADE, related_name="output")
    probabilities = models.JSONField(help_text="{label: probability}")
    decisions = models.JSONField(help_text="{operating point: label}")
    mask = models.CharField(max_length=300, blank=True, help_text="storage name (NIfTI)")
    provenance = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)


class Heatmap(models.Model):
    output = models.ForeignKey(InferenceOutput, on_delete=models.CASCADE, related_name="heatmaps")
    method = models.CharField(max_length=32)
    signed = models.BooleanField(default=False)
    file = models.CharField(max_length=300, help_text="storage name (float16 NIfTI, DICOM grid)")
    params = models.JSONField(default=dict)
    passes = models.PositiveIntegerField(default=0)
    value_range = models.JSONField(help_text="[lo, hi]")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["output", "method"], name="unique_heatmap_method")
        ]
