from readerstudy.celery import app

from . import services


@app.task(name="readerstudy.exports.tasks.run_analysis", acks_late=True)
def run_analysis(*, run_id: str) -> str:
    return services.execute_analysis(run_id=run_id)
