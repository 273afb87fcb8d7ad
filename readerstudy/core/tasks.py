"""Platform tasks (thin: the work is in :mod:`.runner`)."""

from readerstudy.celery import app

from . import runner


@app.task(name="readerstudy.core.tasks.run_worker_probe", acks_late=True)
def run_worker_probe(*, probe_id: str) -> str:
    return runner.execute_worker_probe(probe_id=probe_id)
