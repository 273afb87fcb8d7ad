"""Worker entry points (thin). Routed to the inference queue by settings.CELERY_TASK_ROUTES."""

from django.db import OperationalError

from readerstudy.celery import app

from . import services


@app.task(
    name="readerstudy.ai.tasks.run_inference",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, ConnectionError),
    retry_backoff=True,
    max_retries=3,
)
def run_inference(*, job_id: str) -> str:
    return services.execute(job_id=job_id)
