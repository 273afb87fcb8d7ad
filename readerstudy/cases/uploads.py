"""Browser/API uploads, web side: take the files, queue their import, answer at once.

The request streams the files to private temporary files (:mod:`.upload_handler`); here they
are moved to the upload storage under the job's id (:mod:`.staging`), the job is queued in the
``received`` phase and, once that is committed, ``tasks.import_upload`` is sent to a worker
(:mod:`.runner`), which imports them, reports its phase and counts, ends the job and removes
the files. The response (202) carries the job; its ``GET /api/cases/imports/<id>/`` shows the
rest. A zip is recognised by its content there (a DICOM file whose free preamble starts like a
zip is still DICOM), and its members are checked against the archive limits as they stream.

A collection named with the upload is created only when the import succeeds; a job waiting
for its files keeps just the name until then.

Two ways in: :func:`start_import` creates the job with its files in one call (scripts); or
:func:`create_upload_job` first (the page learns the job id and polls it) and then
:func:`accept_files` with the files, once per job. Refusals (:class:`UploadRefused`) store
nothing: the request's staged files are removed when it ends.
"""

import logging

from django.db import transaction
from django.utils import timezone

from . import staging
from .errors import UploadRefused
from .models import ImportJob

log = logging.getLogger(__name__)
Phase = ImportJob.Phase
Status = ImportJob.Status
_WAITING = {"status": Status.QUEUED, "phase": Phase.WAITING}  # an upload job without its files
NOT_STORED = "the server could not store the upload; nothing was kept, send it again"


def create_upload_job(*, user, collection_name: str | None = None) -> ImportJob:
    """A job waiting for one study's files (sent with :func:`accept_files`)."""
    return ImportJob.objects.create(
        source=ImportJob.Source.UPLOAD, status=Status.QUEUED, phase=Phase.WAITING,
        created_by=user, collection_name=(collection_name or "").strip()[:120],
    )  # fmt: skip


def start_import(files, *, user, collection_name: str | None = None) -> ImportJob:
    """One study's files in one call: a job holding them, queued. Raises UploadRefused."""
    if not files:
        raise UploadRefused("no_files", "send the study's files as 'files'", 400)
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                source=ImportJob.Source.UPLOAD, status=Status.QUEUED, phase=Phase.RECEIVED,
                done=len(files), total=len(files), created_by=user,
                collection_name=(collection_name or "").strip()[:120],
            )  # fmt: skip
            _store_and_queue(job, files)
    except OSError:
        log.exception("an upload could not be stored")
        raise UploadRefused("upload_not_stored", NOT_STORED, 507) from None
    return job


def accept_files(job_id, files, *, user) -> ImportJob:
    """Give a waiting job of this user's its files and queue the import. Raises UploadRefused.

    The job is taken in one conditional update, so two uploads to the same job cannot both
    go ahead; a refused upload leaves the job as it was, except for no files at all, which
    fails the job (it was meant to receive them).
    """
    try:
        with transaction.atomic():
            now = timezone.now()
            taken = ImportJob.objects.filter(pk=job_id, created_by=user, **_WAITING).update(
                phase=Phase.RECEIVED, done=len(files), total=len(files), updated_at=now
            )
            if not taken:
                raise _refusal(job_id, user)
            job = ImportJob.objects.get(pk=job_id)
            if files:
                _store_and_queue(job, files)
    except OSError:
        log.exception("the upload of import job %s could not be stored", job_id)
        refuse_upload(job_id, user=user, code="upload_not_stored", message=NOT_STORED)
        raise UploadRefused("upload_not_stored", NOT_STORED, 507) from None
    if not files:
        _fail(job, "no_files", "send the study's files as 'files'")
        raise UploadRefused("no_files", "send the study's files as 'files'", 400)
    return job


def _refusal(job_id, user) -> UploadRefused:
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return UploadRefused("not_found", "no such import job", 404)
    if job.created_by_id != user.pk:
        return UploadRefused("not_your_job", "this import job was created by another user", 403)
    state = "already has its files" if job.is_active else f"is {job.status}"
    return UploadRefused("job_not_waiting", f"this import job {state}; create a new one", 409)


def _store_and_queue(job: ImportJob, files) -> None:
    """Inside the job's transaction: its files to the upload storage, the task on commit."""
    from .tasks import import_upload

    staging.publish(job.pk, files)  # removes what it stored when it fails
    transaction.on_commit(lambda: import_upload.delay(job_id=str(job.pk)))


def refuse_upload(job_id, *, user, code: str, message: str) -> None:
    """Fail a waiting job of this user's whose upload was refused before it was stored."""
    job = ImportJob.objects.filter(pk=job_id, created_by=user, **_WAITING).first()
    if job is not None:
        _fail(job, code, message)


def _fail(job: ImportJob, code: str, message: str) -> None:
    job.fail(
        message, code=code, phase=Phase.FAILED, errors=[{"code": code, "message": message}],
        updated_at=timezone.now(),
    )  # fmt: skip
