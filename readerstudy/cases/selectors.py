"""Read paths of the case library."""

from .models import ImportJob


def import_job(job_id) -> ImportJob | None:
    """Any coordinator (or admin) may follow any import job, as in the case library."""
    return ImportJob.objects.filter(pk=job_id).prefetch_related("cases").first()


def import_job_state(job: ImportJob) -> dict:
    """What a poller sees: phase, counts, outcome (codes and PHI-free messages only)."""
    return {
        "id": str(job.pk),
        "status": job.status,
        "phase": job.phase,
        "done": job.done,
        "total": job.total,
        "progress": job.progress,
        "cases": [case.code for case in job.cases.all()],
        "errors": job.errors,
        "created_at": job.created_at.isoformat(),
        "updated_at": job.updated_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def recent_import_jobs(limit: int = 20):
    return ImportJob.objects.prefetch_related("cases").order_by("-created_at")[:limit]
