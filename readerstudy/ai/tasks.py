"""Worker entry points (thin: the work is in :mod:`.runner`), and which queue a job goes to.

``settings.CELERY_TASK_ROUTES`` sends model jobs to ``READERSTUDY_INFERENCE_QUEUE``
(default ``inference-cpu``); :func:`enqueue` sends a job to ``inference-gpu`` instead when
its model's manifest says ``requirements.device: "cuda"`` or the model id is listed in
``settings.INFERENCE_GPU_MODELS``.
"""

from django.conf import settings

from readerstudy.celery import app

from . import runner
from .models import InferenceJob, ModelVersion

GPU_QUEUE = "inference-gpu"


@app.task(
    name="readerstudy.ai.tasks.run_inference",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=runner.TRANSIENT,
    retry_backoff=True,
    max_retries=3,
)
def run_inference(self, *, job_id: str) -> str:
    last_try = self.request.retries >= self.max_retries
    return runner.execute(job_id=job_id, last_try=last_try)


def needs_gpu(model_version: ModelVersion) -> bool:
    requirements = (model_version.manifest or {}).get("requirements") or {}
    return (
        requirements.get("device") == "cuda"
        or model_version.model_id in settings.INFERENCE_GPU_MODELS
    )


def inference_queue(model_version: ModelVersion) -> str:
    """``inference-gpu`` for GPU models, else the configured route of model jobs."""
    if needs_gpu(model_version):
        return GPU_QUEUE
    route = app.amqp.router.route({}, run_inference.name)
    return str(route["queue"].name)


def enqueue(job: InferenceJob) -> None:
    run_inference.apply_async(
        kwargs={"job_id": str(job.pk)}, queue=inference_queue(job.model_version)
    )
