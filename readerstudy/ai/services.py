"""Inference jobs: one per series x model version x parameters, idempotent, run by workers."""

import hashlib
import json
import logging
import socket
import time

import numpy as np
import SimpleITK as sitk
from django.db import transaction
from django.utils import timezone

from readerstudy.cases.models import Case
from readerstudy.cases.storage import local_copy

from .models import Heatmap, InferenceJob, InferenceOutput, ModelVersion
from .outputs import save_heatmap, save_mask

log = logging.getLogger(__name__)
DEFAULT_EXPLAIN = ("gradcampp", "ig", "shap", "occlusion")
SIGNED_METHODS = {"ig", "shap"}


class InferenceRefused(ValueError):
    pass


def params_hash(params: dict) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


def request_inference(
    case: Case, model_version: ModelVersion, *, params: dict | None = None, user=None
) -> InferenceJob:
    """Return the job for (series, model, params), creating and enqueuing it when needed."""
    if case.primary_series_id is None:
        raise InferenceRefused(f"case {case.code} has no primary series")
    params = {"explain": list(DEFAULT_EXPLAIN)} if params is None else params
    with transaction.atomic():
        job, created = InferenceJob.objects.select_for_update().get_or_create(
            series_id=case.primary_series_id,
            model_version=model_version,
            params_hash=params_hash(params),
            defaults={"case": case, "params": params, "requested_by": user},
        )
        retry = not created and job.status in (
            InferenceJob.Status.FAILED,
            InferenceJob.Status.CANCELLED,
        )
        if retry:
            job.status, job.error, job.progress = InferenceJob.Status.QUEUED, "", 0
            job.save(update_fields=["status", "error", "progress"])
        if created or retry:
            from .tasks import run_inference

            transaction.on_commit(lambda: run_inference.delay(job_id=str(job.pk)))
    return job


def request_for_cases(
    cases, model_version: ModelVersion, *, user=None, params: dict | None = None
) -> list[InferenceJob]:
    return [
        request_inference(case, model_version, params=params, user=user)
        for case in cases
        if case.primary_series_id
    ]


def cancel(job: InferenceJob) -> InferenceJob:
    """Queued jobs never start; a running job's result is discarded when it finishes."""
    updated = InferenceJob.objects.filter(
        pk=job.pk, status__in=[InferenceJob.Status.QUEUED, InferenceJob.Status.RUNNING]
    ).update(status=InferenceJob.Status.CANCELLED, finished_at=timezone.now())
    job.refresh_from_db()
    if not updated and job.status != InferenceJob.Status.CANCELLED:
        raise InferenceRefused(f"a {job.status} job cannot be cancelled")
    return job


def _claim(job_id: str) -> InferenceJob | None:
    with transaction.atomic():
        job = (
            InferenceJob.objects.select_for_update()
            .select_related("model_version", "series")
            .get(pk=job_id)
        )
        if job.status in (InferenceJob.Status.SUCCEEDED, InferenceJob.Status.CANCELLED):
            return None
        job.status = InferenceJob.Status.RUNNING
        job.attempts += 1
        job.started_at = timezone.now()
        job.worker_host = socket.gethostname()
        job.progress = 5
        job.save(update_fields=["status", "attempts", "started_at", "worker_host", "progress"])
    return job


def _progress(job: InferenceJob, value: int) -> None:
    InferenceJob.objects.filter(pk=job.pk, status=InferenceJob.Status.RUNNING).update(
        progress=value
    )


def load_model(version: ModelVersion):
    from inference.registry import get_model

    model = get_model(version.model_id)
    manifest = model.manifest()
    if manifest["version"] != version.version:
        raise InferenceRefused(
            f"installed {version.model_id} is version {manifest['version']}, the job asks for {version.version}"
        )
    return model


def execute(*, job_id: str) -> str:
    """Run a job exactly once in effect: a finished or cancelled job is left as it is."""
    job = _claim(job_id)
    if job is None:
        return "skipped"
    try:
        started = time.perf_counter()
        model = load_model(job.model_version)
        with local_copy(job.series.volume) as path:
            image = sitk.ReadImage(str(path))
        _progress(job, 15)
        from inference.pipeline import PredictOptions

        explain = tuple(job.params.get("explain", ()))
        prediction = model.predict(
            image, options=PredictOptions(explain=explain, threads=job.params.get("threads"))
        )
        _progress(job, 85)
        mask_name = save_mask(prediction.mask, image)
        heatmaps = [
            (method, hm, save_heatmap(hm.array, image))
            for method, hm in prediction.heatmaps.items()
        ]
        with transaction.atomic():
            current = InferenceJob.objects.select_for_update().get(pk=job.pk)
            if current.status != InferenceJob.Status.RUNNING:  # cancelled meanwhile
                return "discarded"
            output = InferenceOutput.objects.create(
                job=current,
                probabilities=prediction.probabilities,
                decisions=prediction.decisions,
                mask=mask_name,
                provenance=prediction.provenance,
            )
            Heatmap.objects.bulk_create(
                Heatmap(
                    output=output,
                    method=method,
                    signed=hm.signed,
                    file=name,
                    params=hm.params,
                    passes=int(sum(hm.passes.values()))
                    if isinstance(hm.passes, dict)
                    else int(hm.passes),
                    value_range=[float(np.min(hm.array)), float(np.max(hm.array))],
                )
                for method, hm, name in heatmaps
            )
            current.status = InferenceJob.Status.SUCCEEDED
            current.progress = 100
            current.finished_at = timezone.now()
            current.timings = {
                **prediction.provenance.get("timings", {}),
                "total_s": round(time.perf_counter() - started, 3),
            }
            current.versions = prediction.provenance.get("versions", {})
            current.save(update_fields=["status", "progress", "finished_at", "timings", "versions"])
        return "done"
    except Exception as exc:
        log.exception("inference job %s failed", job_id)
        InferenceJob.objects.filter(pk=job_id).exclude(status=InferenceJob.Status.CANCELLED).update(
            status=InferenceJob.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
