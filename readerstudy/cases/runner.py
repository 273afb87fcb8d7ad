"""Worker side of an upload: import the files a job received, once, and remove them.

:func:`import_upload` runs in a Celery worker (``tasks.import_upload``, queue ``default``). It
claims the job (:meth:`readerstudy.core.jobs.Job.claim`), imports the job's files from the
upload storage (:mod:`.staging`) with the one ingest service, reporting the phase and its
counts as it goes (:class:`.progress.JobProgress`), and ends the job ``succeeded`` with its case
or ``failed`` with the errors, nothing stored. The files are removed once the job has ended,
whatever the outcome.

Delivered twice, it imports once: a finished or cancelled job is not claimed again (its
leftover files are removed); a job running with a fresh heartbeat belongs to a live worker, so
this delivery answers :data:`BUSY` and the task looks again later; a running job whose heartbeat
has gone stale (its worker was killed mid-import, and the broker delivered the message again)
is taken over and imported from its files, which are still there. The import itself is
idempotent too: the same study imported twice is one case.
"""

import logging
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.utils import timezone

from readerstudy.core.jobs import JobCancelled

from . import staging
from .errors import ImportFailed
from .ingest import collection_named, import_study
from .models import ImportJob
from .progress import HEARTBEAT_S, JobProgress

log = logging.getLogger(__name__)
Phase = ImportJob.Phase
BUSY = "busy"
#: a running job whose heartbeat is older than this has lost its worker
STALE_AFTER = timedelta(seconds=6 * HEARTBEAT_S)
UPLOAD_MISSING = (
    "the uploaded files are not in the upload storage this worker sees; web and workers must "
    "share it (the same READERSTUDY_DATA_DIR, or S3)"
)


def running_elsewhere(job_id) -> bool:
    """Whether a live worker is importing this job (its heartbeat is fresh)."""
    return ImportJob.objects.filter(
        pk=job_id,
        status=ImportJob.Status.RUNNING,
        heartbeat_at__gt=timezone.now() - STALE_AFTER,
    ).exists()


def import_upload(*, job_id: str) -> str:
    """Import an upload job's files once. Returns what it did (for the task's result)."""
    if running_elsewhere(job_id):
        return BUSY
    job = ImportJob.claim(job_id, related=("collection",))
    if job is None:  # finished, cancelled or gone: a late second delivery
        staging.discard(job_id)
        return "skipped"
    ended = False
    try:
        ended, outcome = _import(job)
        return outcome
    finally:
        if ended:  # else a redelivery (or the sweeper) still needs the files
            staging.discard(job_id)


def _import(job: ImportJob) -> tuple[bool, str]:
    """(whether the job ended, its outcome)."""
    try:
        with JobProgress(job.pk) as progress, staging.local_files(job.pk) as files:
            progress(Phase.RECEIVED, len(files), len(files))
            if not files:
                raise ImportFailed(
                    "the upload holds no files", [{"code": "no_files", "message": "no files"}]
                )
            outcome = import_study(
                files,
                collection=job.collection,
                collection_name=job.collection_name or None,
                progress=progress,
            )
    except ImportFailed as exc:
        _fail(job, exc.errors)
        return True, "failed"
    except staging.UploadMissing:
        _fail(job, [{"code": "upload_missing", "message": UPLOAD_MISSING}])
        return True, "failed"
    except JobCancelled:
        _fail(job, [{"code": "cancelled", "message": "the import was cancelled"}])
        return True, "cancelled"
    except SoftTimeLimitExceeded:
        message = "the import took longer than the task time limit; nothing was stored"
        _fail(job, [{"code": "timeout", "message": message}])
        return True, "failed"
    except Exception:
        log.exception("upload import %s stopped on an unexpected error", job.pk)
        message = "the import stopped; nothing was stored"
        _fail(job, [{"code": "internal_error", "message": message}])
        return True, "failed"
    _succeed(job, outcome)
    return True, "succeeded"


def _succeed(job: ImportJob, outcome) -> None:
    series = outcome.case.primary_series
    stored = series.num_slices if series else 0
    with transaction.atomic():
        collection = job.collection or collection_named(job.collection_name)
        job.cases.add(outcome.case)
        job.succeed(
            phase=Phase.DONE, done=stored, total=stored, errors=outcome.excluded,
            created_case=outcome.created, collection=collection, updated_at=timezone.now(),
        )  # fmt: skip


def _fail(job: ImportJob, errors: list[dict]) -> None:
    """Failed with every error; the first one is the job's reason (``error_code``, ``error``)."""
    first = errors[0] if errors else {}
    job.fail(
        str(first.get("message") or "the import failed"),
        code=str(first.get("code") or "import_failed"),
        phase=Phase.FAILED, errors=errors, updated_at=timezone.now(),
    )  # fmt: skip
