"""Analysis runs of a study (a Celery task builds the report files)."""

from typing import ClassVar

from django.conf import settings
from django.db import models

from readerstudy.core.jobs import Job, JobStatus
from readerstudy.studies.models import ReaderStudy


class AnalysisRun(Job):
    """One report build of a study: its options, and the files and summary it produced.

    Phases: ``inputs`` (the reads table), ``statistics`` (the report) and ``files`` (``done``
    of ``total`` report files stored). A cancelled run stops at the next phase and keeps no
    files.
    """

    cancellable: ClassVar[bool] = True

    Status = JobStatus

    class Phase(models.TextChoices):
        NONE = "", "not started"
        INPUTS = "inputs", "reading the reads and the truth"
        STATISTICS = "statistics", "computing the statistics"
        FILES = "files", "storing the report files"

    phase = models.CharField(max_length=32, choices=Phase.choices, blank=True)
    study = models.ForeignKey(ReaderStudy, on_delete=models.CASCADE, related_name="analysis_runs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    options = models.JSONField(default=dict)
    files = models.JSONField(default=list, help_text="storage names of the report files")
    summary = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"analysis of {self.study} ({self.status})"


class LocalizationScoring(models.Model):
    """How a study's lesion marks are scored against its truth lesions (FROC exports and
    analyses): the acceptance criterion and the marks question scored (blank = the study's
    first ``marks`` question). See ``analysis.froc_scoring``."""

    class Criterion(models.TextChoices):
        MASK = "mask", "inside the lesion mask"
        DISTANCE = "distance", "within R mm of the lesion centroid"
        ROI_OVERLAP = "roi_overlap", "ROI overlaps the lesion"

    study = models.OneToOneField(
        ReaderStudy, on_delete=models.CASCADE, related_name="localization_scoring"
    )
    criterion = models.CharField(
        max_length=16, choices=Criterion.choices, default=Criterion.DISTANCE
    )
    radius_mm = models.FloatField(default=10.0, help_text="R of the distance criterion")
    use_lesion_radius = models.BooleanField(
        default=True, help_text="a lesion's own radius (lesions CSV) replaces R"
    )
    question_code = models.SlugField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
