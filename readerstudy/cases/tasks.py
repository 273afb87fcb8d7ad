"""Case-library worker entry points (thin; the work is in :mod:`.runner` and :mod:`.sweep`).

Queue ``default`` (``settings.CELERY_TASK_ROUTES``). Acknowledged late and rejected when the
worker is lost, so an import whose worker was killed is delivered again, to the next worker.
"""

from readerstudy.celery import app

from . import runner, sweep

#: seconds before a delivery that found the job with a live worker looks again
BUSY_RETRY_S = int(runner.STALE_AFTER.total_seconds())


@app.task(
    name="readerstudy.cases.tasks.import_upload",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
)
def import_upload(self, *, job_id: str) -> str:
    outcome = runner.import_upload(job_id=job_id)
    if outcome == runner.BUSY:  # another worker has it: look again once it could be stale
        raise self.retry(countdown=BUSY_RETRY_S)
    return outcome


@app.task(name="readerstudy.cases.tasks.sweep_uploads", acks_late=True)
def sweep_uploads(*, older_than_hours: float = sweep.DEFAULT_HOURS) -> dict:
    """The sweeper as a task, for a periodic schedule (Celery beat) where there is one."""
    return sweep.sweep_uploads(older_than_hours=older_than_hours).as_dict()
