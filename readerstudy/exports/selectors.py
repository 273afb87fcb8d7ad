"""Read paths of analysis runs."""

from django.urls import reverse

from .models import AnalysisRun


def run_file_names(run: AnalysisRun) -> list[str]:
    return [name.rsplit("/", 1)[-1] for name in run.files]


def run_summary(run: AnalysisRun) -> dict:
    """What the API shows of a run: its lifecycle fields, summary and file links."""
    return {
        "id": str(run.pk),
        "study": run.study_id,
        "status": run.status,
        "phase": run.phase,
        "done": run.done,
        "total": run.total,
        "percent": run.percent,
        "error_code": run.error_code,
        "error": run.error,
        "cancel_requested": run.cancel_requested,
        "can_cancel": run.can_cancel,
        "attempts": run.attempts,
        "worker_host": run.worker_host,
        "timings": run.timings,
        "versions": run.versions,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "heartbeat_at": run.heartbeat_at,
        "finished_at": run.finished_at,
        "elapsed_s": run.elapsed_s,
        "summary": run.summary,
        "files": [
            {"name": name, "url": reverse("export-analysis-file", args=[run.pk, name])}
            for name in run_file_names(run)
        ],
    }
