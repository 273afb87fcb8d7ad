"""Remove uploads left behind: ``python manage.py sweep_uploads [--hours N]``.

The worker removes a job's files when its import ends, and a request removes the files it
staged when it ends; what a killed process leaves is removed here (run it hourly from cron on
each web machine, or as the task ``readerstudy.cases.tasks.sweep_uploads`` from Celery beat):

* a job folder in the upload storage (:mod:`.staging`) whose job has ended (succeeded, failed,
  cancelled): removed at once, nothing will read it;
* one whose job is missing (deleted, or never committed), unchanged for ``hours``: removed;
* one whose job is still queued or running but unchanged for ``hours``, and whose heartbeat (if
  it ran) is as old: the import is abandoned (its message lost, its worker gone for good); the
  job is failed with ``upload_abandoned`` and the folder removed;
* files staged by a request (``FILE_UPLOAD_TEMP_DIR/rs-upload-*``) older than ``hours``.

``hours`` (default :data:`DEFAULT_HOURS`) must be longer than an upload takes to arrive and an
import to start and run (at most ``CELERY_TASK_TIME_LIMIT``).
"""

import logging
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from . import staging
from .models import ImportJob
from .upload_handler import TEMP_PREFIX

log = logging.getLogger(__name__)
DEFAULT_HOURS = 24.0
ABANDONED = "the import did not finish within {hours:g} hours; its upload was removed"


@dataclass
class SweepReport:
    ended: int = 0  # folders of jobs that had ended
    missing: int = 0  # folders without a job
    abandoned: int = 0  # jobs failed as abandoned, their folders removed
    kept: int = 0  # folders of jobs still in progress
    staged: int = 0  # request temp files removed

    def as_dict(self) -> dict:
        return asdict(self)


def _job_id(folder: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(folder)
    except ValueError:
        return None


def sweep_uploads(*, older_than_hours: float = DEFAULT_HOURS) -> SweepReport:
    if older_than_hours <= 0:
        raise ValueError("the age must be more than 0 hours")
    cutoff = timezone.now() - timedelta(hours=older_than_hours)
    report = SweepReport()
    for folder in staging.folders():
        job_id = _job_id(folder)
        job = ImportJob.objects.filter(pk=job_id).first() if job_id else None
        if job is not None and job.is_terminal:
            staging.discard(folder)
            report.ended += 1
            continue
        changed = staging.last_change(folder)
        if changed is not None and changed > cutoff:
            report.kept += 1
            continue
        if job is None:
            staging.discard(folder)
            report.missing += 1
        elif _abandon(job, cutoff, older_than_hours):
            staging.discard(folder)
            report.abandoned += 1
        else:
            report.kept += 1
    report.staged = _sweep_request_files(older_than_hours)
    if any((report.ended, report.missing, report.abandoned, report.staged)):
        log.info("sweep_uploads removed %s", report.as_dict())
    return report


def _abandon(job: ImportJob, cutoff, hours: float) -> bool:
    """Fail an active job that has shown no sign of life since ``cutoff``."""
    if job.heartbeat_at is not None and job.heartbeat_at >= cutoff:
        return False
    message = ABANDONED.format(hours=hours)
    job.fail(
        message, code="upload_abandoned", phase=ImportJob.Phase.FAILED,
        errors=[{"code": "upload_abandoned", "message": message}], updated_at=timezone.now(),
    )  # fmt: skip
    job.refresh_from_db(fields=["status"])
    return job.is_terminal


def _sweep_request_files(hours: float) -> int:
    folder = Path(settings.FILE_UPLOAD_TEMP_DIR)
    if not folder.is_dir():
        return 0
    cutoff = time.time() - hours * 3600
    removed = 0
    for path in folder.glob(f"{TEMP_PREFIX}*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
