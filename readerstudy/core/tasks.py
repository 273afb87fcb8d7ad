"""Platform tasks (thin: the work is in services)."""

from readerstudy.celery import app

from . import services


@app.task(name="readerstudy.core.tasks.run_worker_probe", acks_late=True)
def run_worker_probe(*, probe_id: str) -> str:
    return services.execute_worker_probe(probe_id=probe_id)
