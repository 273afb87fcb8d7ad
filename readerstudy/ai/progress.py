"""How far the model is on a series: what a waiting reader or coordinator is told."""

from dataclasses import dataclass

from django.utils import timezone

from .models import InferenceJob, ModelVersion


@dataclass(frozen=True)
class JobProgress:
    status: str  # "none" when no job was ever requested
    progress: int
    eta_s: int | None  # None while it cannot be estimated (queued, or just started)
    job: InferenceJob | None = None  # the job itself (phase, error, cancel), when there is one

    def describe(self) -> str:
        if self.status == "none":
            return "the model has not been run on this case yet (ask the study's coordinator)"
        if self.status == InferenceJob.Status.QUEUED:
            return "the model's job for this case is queued, waiting for a worker"
        if self.status == InferenceJob.Status.RUNNING:
            eta = f", about {self.eta_s} s left" if self.eta_s is not None else ""
            return f"the model is running on this case ({self.progress}%{eta})"
        if self.status == InferenceJob.Status.FAILED:
            return "the model's job for this case failed (the study's coordinator can re-run it)"
        return f"the model's job for this case is {self.status}"


def series_progress(series_id: int | None, model_version: ModelVersion) -> JobProgress:
    job = (
        None
        if series_id is None
        else InferenceJob.objects.filter(series_id=series_id, model_version=model_version).first()
    )
    if job is None:
        return JobProgress("none", 0, None)
    percent = round(job.percent or 0)
    eta = None
    if job.status == InferenceJob.Status.RUNNING and job.started_at and percent >= 10:
        elapsed = (timezone.now() - job.started_at).total_seconds()
        eta = max(1, round(elapsed * (100 - percent) / percent))
    return JobProgress(job.status, percent, eta, job)
