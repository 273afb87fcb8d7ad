"""Worker entry points of truth panels (thin: the work is in :mod:`.runner`)."""

from readerstudy.celery import app

from . import runner


@app.task(name="readerstudy.panels.tasks.run_panel_vote", acks_late=True)
def run_panel_vote(*, vote_id: str) -> str:
    return runner.execute_vote(vote_id=vote_id)
