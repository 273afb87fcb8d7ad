"""Inference jobs, worker side: load the model and the series, predict, store the outputs.

Progress is per cent (``done`` of ``total`` = 100) with a phase: ``loading`` (5), ``predicting``
(15), ``saving`` (85). Each phase boundary is also where a cancelled job stops. The outputs
are stored in the same transaction that marks the job succeeded, so a job cancelled meanwhile
keeps none of them.

A plug-in that names clinical ``covariates`` gets them from the case's clinical record
(``PredictOptions.covariates``); a covariate the record lacks fails the job
(``missing_covariates``) before the series is read, naming it. The case's ground-truth mask,
when it lies on the series, is passed as ``PredictOptions.roi_mask`` (models without an ROI
ignore it). Beside the probabilities the
output keeps the model's signatures, nomogram and selected features (:mod:`.interpretation`).
"""

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import SimpleITK as sitk
from django.conf import settings
from django.db import OperationalError, transaction

from readerstudy.cases.models import HematomaMask, Instance
from readerstudy.cases.storage import local_copy
from readerstudy.core.jobs import JobCancelled

from .covariates import MissingCovariates, case_covariates, required_covariates
from .interpretation import interpretation_of
from .models import Heatmap, InferenceJob, InferenceOutput, ModelVersion
from .outputs import read_volume, save_heatmap, save_mask

log = logging.getLogger(__name__)
#: errors the task retries (the database or the broker went away for a moment)
TRANSIENT = (OperationalError, ConnectionError)


class ModelMismatch(ValueError):
    """The installed model is not the version the job asks for."""


def load_model(version: ModelVersion):
    from inference.registry import get_model

    model = get_model(version.model_id)
    manifest = model.manifest()
    if manifest["version"] != version.version:
        raise ModelMismatch(
            f"installed {version.model_id} is version {manifest['version']}, the job asks for {version.version}"
        )
    return model


def job_provenance(provenance: dict, *, total_s: float, steps: dict[str, float]) -> tuple:
    """(timings, versions) of a job from the pipeline's provenance and the runner's own steps.

    The pipeline writes ``libraries`` ({name: version}) and ``timings_s`` ({step: seconds},
    ``total`` being the prediction's). The job keeps every step as ``<step>_s``, the
    prediction's total as ``predict_s`` and its own wall time as ``total_s``.
    """
    timings = {
        ("predict_s" if step == "total" else f"{step}_s"): float(seconds)
        for step, seconds in (provenance.get("timings_s") or {}).items()
    }
    timings.update({f"{step}_s": round(seconds, 4) for step, seconds in steps.items()})
    timings["total_s"] = round(total_s, 3)
    versions = {str(k): str(v) for k, v in (provenance.get("libraries") or {}).items()}
    model = provenance.get("model") or {}
    if model.get("id"):
        versions[f"model:{model['id']}"] = str(model.get("version", ""))
    return timings, versions


class SliceMismatch(ValueError):
    """The model's slice-level output does not have one value per slice of the series."""


def slice_uids(series_id: int) -> list[str]:
    """The series' de-identified SOP Instance UIDs in geometric order (``Instance.position``)."""
    return list(
        Instance.objects.filter(series_id=series_id)
        .order_by("position")
        .values_list("sop_instance_uid", flat=True)
    )


def slice_outputs(series_id: int, prediction) -> tuple[list[str], dict[str, list[float]]]:
    """(slice UIDs, {label: [p per slice]}) of a prediction; empty without slice outputs.

    The model's lists are in input-grid index order, which is ``Instance.position`` order;
    a list of another length than the series' slices is refused (it cannot be placed).
    """
    values = prediction.slice_probabilities or {}
    if not values:
        return [], {}
    uids = slice_uids(series_id)
    for label, ps in values.items():
        if len(ps) != len(uids):
            raise SliceMismatch(
                f"slice probabilities of {label!r} have {len(ps)} values; "
                f"the series has {len(uids)} slices"
            )
    return uids, {label: [float(p) for p in ps] for label, ps in values.items()}


@dataclass
class SavedFiles:
    mask: str  # storage name, "" without a mask
    heatmaps: list[tuple[Any, str]]  # (inference.results.Heatmap, storage name)


def save_files(prediction, image: sitk.Image) -> SavedFiles:
    """Write the mask (when the model segments) and one file per heatmap (method + label)."""
    mask = "" if prediction.mask is None else save_mask(prediction.mask, image)
    return SavedFiles(
        mask, [(hm, save_heatmap(hm.array, image)) for hm in prediction.heatmaps.values()]
    )


def _heatmap_rows(output: InferenceOutput, saved: SavedFiles, positive: str) -> list[Heatmap]:
    return [
        Heatmap(
            output=output,
            method=hm.method,
            label=hm.label or positive,
            signed=hm.signed,
            file=name,
            params=hm.params,
            passes=int(sum(hm.passes.values())) if isinstance(hm.passes, dict) else int(hm.passes),
            value_range=[float(np.min(hm.array)), float(np.max(hm.array))],
        )
        for hm, name in saved.heatmaps
    ]


def store_output(
    job: InferenceJob, prediction, saved: SavedFiles, slices: tuple
) -> InferenceOutput:
    """The output rows of a prediction whose files are saved (call inside a transaction)."""
    uids, values = slices
    output = InferenceOutput.objects.create(
        **interpretation_of(prediction.to_json()),
        job=job,
        probabilities=prediction.probabilities,
        decisions=prediction.decisions,
        mask=saved.mask,
        slice_uids=uids,
        slice_probabilities=values,
        provenance=prediction.provenance,
    )
    Heatmap.objects.bulk_create(_heatmap_rows(output, saved, prediction.positive_label))
    return output


def truth_roi(job: InferenceJob) -> np.ndarray | None:
    """The case's ground-truth hematoma mask (z, y, x) when it lies on the job's series: the
    ROI of models that take one (seed 001's DLRN; without it, its own segmenter's)."""
    mask = HematomaMask.objects.filter(case_id=job.case_id, series_id=job.series_id).first()
    return None if mask is None else read_volume(mask.file).array


def _predict(job: InferenceJob, steps: dict[str, float]):
    from inference.pipeline import PredictOptions

    job.progress(InferenceJob.Phase.LOADING, done=5, total=100)
    t = time.perf_counter()
    model = load_model(job.model_version)
    covariates = case_covariates(
        job.case_id, required_covariates(model), model_id=job.model_version.model_id
    )
    with local_copy(job.series.volume) as path:
        image = sitk.ReadImage(str(path))
    steps["load"] = time.perf_counter() - t
    job.progress(InferenceJob.Phase.PREDICTING, done=15)
    explain = tuple(job.params.get("explain", ()))
    options = PredictOptions(
        explain=explain, threads=job.params.get("threads"), device=settings.INFERENCE_DEVICE
    )
    if covariates:
        options = dataclasses.replace(options, covariates=covariates)
    roi = truth_roi(job)
    if roi is not None:
        options = dataclasses.replace(options, roi_mask=roi)
    prediction = model.predict(image, options=options)
    return image, prediction


def execute(*, job_id: str, last_try: bool = True) -> str:
    """Run a job exactly once in effect: a finished or cancelled job is left as it is.

    A transient error (:data:`TRANSIENT`) gives the job back to the queue for the task's
    retry, unless this is the ``last_try``; any other error fails the job.
    """
    job = InferenceJob.claim(job_id, related=("model_version", "series"))
    if job is None:
        return "skipped"
    started = time.perf_counter()
    steps: dict[str, float] = {}
    try:
        image, prediction = _predict(job, steps)
        job.progress(InferenceJob.Phase.SAVING, done=85)
        t = time.perf_counter()
        slices = slice_outputs(job.series_id, prediction)
        saved = save_files(prediction, image)
        steps["save"] = time.perf_counter() - t
        timings, versions = job_provenance(
            prediction.provenance, total_s=time.perf_counter() - started, steps=steps
        )
        with transaction.atomic():
            store_output(job, prediction, saved, slices)
            if not job.succeed(done=100, total=100, phase="", timings=timings, versions=versions):
                raise JobCancelled(job_id)  # cancelled meanwhile: roll the outputs back
        return "done"
    except JobCancelled:
        log.info("inference job %s was cancelled while it ran", job_id)
        job.acknowledge_cancel()
        return "discarded"
    except MissingCovariates as exc:
        log.warning("inference job %s: %s", job_id, exc)
        job.fail(str(exc), code="missing_covariates")
        return "failed"
    except TRANSIENT as exc:
        if last_try:
            job.fail_from(exc, code="unavailable")
        else:
            log.warning("inference job %s: %s; retried", job_id, type(exc).__name__)
            job.release()
        raise
    except Exception as exc:
        log.exception("inference job %s failed", job_id)
        job.fail_from(exc)
        raise
