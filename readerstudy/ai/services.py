"""Inference jobs, web side: one per series x model version x parameters, idempotent.

Requesting creates (or re-queues) a job and enqueues it on commit; the worker's part is in
:mod:`.runner`.
"""

import hashlib
import json

from django.db import transaction

from readerstudy.cases.models import Case
from readerstudy.core.jobs import InvalidTransition

from .models import InferenceJob, ModelVersion
from .tasks import enqueue

DEFAULT_EXPLAIN = ("gradcampp", "ig", "shap", "occlusion")


class InferenceRefused(ValueError):
    pass


def params_hash(params: dict) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


def request_inference(
    case: Case, model_version: ModelVersion, *, params: dict | None = None, user=None
) -> InferenceJob:
    """Return the job for (series, model, params), creating and enqueuing it when needed.

    A failed or cancelled job is queued again; a queued, running or succeeded one is reused.
    """
    if case.primary_series_id is None:
        raise InferenceRefused(f"case {case.code} has no primary series")
    if is_external(model_version):
        raise InferenceRefused(f"{model_version} holds imported predictions; it does not run")
    params = {"explain": list(DEFAULT_EXPLAIN)} if params is None else params
    with transaction.atomic():
        job, created = InferenceJob.objects.select_for_update().get_or_create(
            series_id=case.primary_series_id,
            model_version=model_version,
            params_hash=params_hash(params),
            defaults={"case": case, "params": params, "requested_by": user},
        )
        if created or job.requeue():
            transaction.on_commit(lambda: enqueue(job))
    return job


def is_external(model_version: ModelVersion) -> bool:
    """Imported predictions (a model that runs elsewhere): no worker runs it."""
    return bool((model_version.manifest or {}).get("external"))


def request_for_cases(
    cases, model_version: ModelVersion, *, user=None, params: dict | None = None
) -> list[InferenceJob]:
    """Jobs for the cases with a primary series (none for imported predictions)."""
    if is_external(model_version):
        return []
    return [
        request_inference(case, model_version, params=params, user=user)
        for case in cases
        if case.primary_series_id
    ]


def cancel(job: InferenceJob) -> InferenceJob:
    """A queued job never starts; a running one stops at its next phase, storing nothing.

    Raises :class:`InferenceRefused` for a finished job.
    """
    try:
        return job.cancel()
    except InvalidTransition:
        raise InferenceRefused(f"a {job.status} job cannot be cancelled") from None
