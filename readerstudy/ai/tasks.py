"""Worker entry points (thin: the work is in :mod:`.runner`).

Routed to the inference queue by settings.CELERY_TASK_ROUTES.
"""

from readerstudy.celery import app

from . import runner


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
