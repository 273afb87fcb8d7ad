"""Model registry, inference jobs and their outputs."""

from typing import ClassVar

from django.conf import settings
from django.db import models

from readerstudy.cases.models import Case, Series
from readerstudy.core.jobs import Job, JobStatus


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


class InferenceJob(Job):
    """One case x model version x parameters. Re-requesting the same triple reuses the job.

    Progress is ``done`` of ``total`` = 100 (per cent), with the ``phase`` the runner is in
    (``loading``, ``predicting``, ``saving``); a running job stops at the next phase when
    cancelled, and its output is never stored.
    """

    cancellable: ClassVar[bool] = True

    Status = JobStatus

    class Phase(models.TextChoices):
        NONE = "", "not started"
        LOADING = "loading", "loading the model and the series"
        PREDICTING = "predicting"
        SAVING = "saving", "saving the outputs"

    phase = models.CharField(max_length=32, choices=Phase.choices, blank=True)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="inference_jobs")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="+")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="jobs")
    params = models.JSONField(default=dict)
    params_hash = models.CharField(max_length=64)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta(Job.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["series", "model_version", "params_hash"], name="unique_inference"
            )
        ]


class InferenceOutput(models.Model):
    """One prediction for one series.

    Slice-level probabilities are stored as one list per label aligned with ``slice_uids``
    (the de-identified SOP Instance UIDs in geometric order): the viewer's strip needs them
    in that order anyway, the whole series is read in one row, and a {uid: p} map per label
    would repeat every 64-character UID once per label.
    """

    job = models.OneToOneField(InferenceJob, on_delete=models.CASCADE, related_name="output")
    probabilities = models.JSONField(
        help_text="{label: probability}; a multi-class head as {head: {class: probability}}"
    )
    decisions = models.JSONField(help_text="{operating point: {label: 0 or 1}}")
    mask = models.CharField(
        max_length=300, blank=True, help_text="storage name (NIfTI); empty without segmentation"
    )
    slice_uids = models.JSONField(
        default=list, blank=True, help_text="de-identified SOP Instance UIDs, geometric order"
    )
    slice_probabilities = models.JSONField(
        default=dict, blank=True, help_text="{label: [probability per slice of slice_uids]}"
    )
    provenance = models.JSONField(default=dict)
    signatures = models.JSONField(
        default=dict, blank=True, help_text="{signature: probability}, e.g. rad, dl, dlr, dlrn"
    )
    nomogram = models.JSONField(
        default=dict,
        blank=True,
        help_text="{points: {variable: points}, total_points, axes, probability_axis}; "
        "see readerstudy.ai.interpretation",
    )
    features = models.JSONField(
        default=list, blank=True, help_text="[{name, value, importance}] selected features"
    )
    created_at = models.DateTimeField(auto_now_add=True)


class Heatmap(models.Model):
    output = models.ForeignKey(InferenceOutput, on_delete=models.CASCADE, related_name="heatmaps")
    method = models.CharField(max_length=32)
    label = models.CharField(max_length=64, help_text="the model label (or class) explained")
    signed = models.BooleanField(default=False)
    file = models.CharField(max_length=300, help_text="storage name (float16 NIfTI, DICOM grid)")
    params = models.JSONField(default=dict)
    passes = models.PositiveIntegerField(default=0)
    value_range = models.JSONField(help_text="[lo, hi]")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["output", "method", "label"], name="unique_heatmap_method_label"
            )
        ]
