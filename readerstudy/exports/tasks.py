"""Worker entry points (thin: the work is in :mod:`.runner`)."""

from readerstudy.celery import app

from . import runner


@app.task(name="readerstudy.exports.tasks.run_analysis", acks_late=True)
def run_analysis(*, run_id: str) -> str:
    return runner.execute_analysis(run_id=run_id)
