"""Browser/API uploads.

Uploaded files are kept in memory (Django's memory upload handler; size capped by
READERSTUDY_MAX_UPLOAD_MB) and passed as (name, bytes) pairs to the ingest service; a zip is
recognised by its content (a DICOM file whose free preamble starts like a zip is still DICOM)
and the DICOM core streams its members, checked against the archive limits, into a temporary
folder that is removed when the import ends.

A collection named with the upload is created only when the import succeeds; a job waiting
for its files keeps just the name until then.

Two ways in: :func:`import_upload` creates the job and imports in one call (scripts); or
:func:`create_upload_job` first (the page learns the job id and polls it) and then
:func:`upload_to_job` with the files. Either way the job records its phase and counts while
the import runs (:mod:`.progress`) and ends ``succeeded`` with its case or ``failed`` with the
errors, nothing stored.
"""

import logging

from django.db import transaction
from django.utils import timezone

from .errors import ImportFailed, UploadRefused
from .ingest import collection_named, import_study
from .models import ImportJob
from .progress import JobProgress

log = logging.getLogger(__name__)
Phase = ImportJob.Phase
Status = ImportJob.Status


def _pairs(files) -> list[tuple[str, bytes]]:
    """(name, bytes) per uploaded file; the core shows names only as PHI-safe labels."""
    return [
        (getattr(upload, "name", None) or f"upload-{index + 1:05d}", upload.read())
        for index, upload in enumerate(files)
    ]


def import_upload(files, *, user, collection_name: str | None = None) -> ImportJob:
    """Import one study from uploaded files or a zip; the job records the outcome."""
    job = ImportJob.objects.create(
        source=ImportJob.Source.UPLOAD, status=Status.RUNNING, created_by=user
    )
    return _run(job, files, collection_name)


def create_upload_job(*, user, collection_name: str | None = None) -> ImportJob:
    """A job waiting for one study's files (sent with :func:`upload_to_job`)."""
    return ImportJob.objects.create(
        source=ImportJob.Source.UPLOAD, status=Status.WAITING, created_by=user,
        collection_name=(collection_name or "").strip()[:120],
    )  # fmt: skip


def upload_to_job(job_id, files, *, user) -> ImportJob:
    """Import the files into a waiting job of this user's. Raises UploadRefused, ImportFailed.

    The job is claimed in one conditional update, so two uploads to the same job cannot both
    run; a refused upload leaves the job as it was.
    """
    claimed = ImportJob.objects.filter(pk=job_id, status=Status.WAITING, created_by=user).update(
        status=Status.RUNNING, updated_at=timezone.now()
    )
    if not claimed:
        job = ImportJob.objects.filter(pk=job_id).first()
        if job is None:
            raise UploadRefused("not_found", "no such import job", 404)
        if job.created_by_id != user.pk:
            raise UploadRefused("not_your_job", "this import job was created by another user", 403)
        raise UploadRefused(
            "job_not_waiting", f"this import job is {job.status}; create a new one", 409
        )
    job = ImportJob.objects.select_related("collection").get(pk=job_id)
    if not files:
        error = {"code": "no_files", "message": "send the study's files as 'files'"}
        _finish(job, Status.FAILED, [error])
        raise ImportFailed(error["message"], [error])
    return _run(job, files)


def refuse_upload(job_id, *, user, code: str, message: str) -> None:
    """Fail a waiting job of this user's whose upload was refused before reading it."""
    job = ImportJob.objects.filter(pk=job_id, status=Status.WAITING, created_by=user).first()
    if job is not None:
        _finish(job, Status.FAILED, [{"code": code, "message": message}])


def _prepare_and_import(files, collection, collection_name, progress: JobProgress):
    pairs = _pairs(files)
    progress(Phase.RECEIVED, len(pairs), len(pairs))
    if not pairs:
        raise ImportFailed(
            "the upload holds no files", [{"code": "no_series", "message": "no files"}]
        )
    return import_study(
        pairs, collection=collection, collection_name=collection_name, progress=progress
    )


def _run(job: ImportJob, files, collection_name: str | None = None) -> ImportJob:
    collection_name = collection_name or job.collection_name or None
    try:
        with JobProgress(job.pk) as progress:
            outcome = _prepare_and_import(files, job.collection, collection_name, progress)
    except ImportFailed as exc:
        _finish(job, Status.FAILED, exc.errors)
        raise
    except Exception:
        log.exception("upload import %s stopped on an unexpected error", job.pk)
        _finish(
            job,
            Status.FAILED,
            [{"code": "internal_error", "message": "the import stopped; nothing was stored"}],
        )
        raise
    with transaction.atomic():
        if job.collection is None and collection_name:
            job.collection = collection_named(collection_name)
        job.cases.add(outcome.case)
        job.created_case = outcome.created
        series = outcome.case.primary_series
        _finish(job, Status.SUCCEEDED, outcome.excluded, stored=series.num_slices if series else 0)
    return job


def _finish(job: ImportJob, status: str, errors: list[dict], *, stored: int = 0) -> None:
    # The progress thread wrote phase and counts on its own connection: start from those.
    job.refresh_from_db(fields=["phase", "done", "total"])
    job.status = status
    job.phase = Phase.DONE if status == Status.SUCCEEDED else Phase.FAILED
    if status == Status.SUCCEEDED:  # the storing phase, complete
        job.done = job.total = stored or job.total
    job.errors = errors
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "status", "phase", "done", "total", "errors", "finished_at", "updated_at",
            "collection", "created_case",
        ]
    )  # fmt: skip
