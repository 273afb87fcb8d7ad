"""Browser/API uploads, processed in memory: original files never touch the disk.

Uploaded files are kept in memory (Django's memory upload handler; size capped by
READERSTUDY_MAX_UPLOAD_MB) and zip members are read into memory with the archive safety
checks, then passed as (name, bytes) pairs to the ingest service.
"""

import io

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .dicom import ArchiveError, ArchiveLimits
from .dicom.archives import iter_zip
from .errors import ImportFailed
from .ingest import import_study
from .models import Collection, ImportJob
from .secrets import deid_secret


def _pairs(files) -> list[tuple[str, bytes]]:
    pairs: list[tuple[str, bytes]] = []
    for index, upload in enumerate(files):
        data = upload.read()
        if data[:4] == b"PK\x03\x04":
            limits = ArchiveLimits(max_total_bytes=settings.MAX_UPLOAD_BYTES * 8)
            pairs.extend(iter_zip(io.BytesIO(data), limits, deid_secret()))
        else:
            pairs.append((f"upload-{index + 1:05d}", data))
    return pairs


def import_upload(files, *, user, collection_name: str | None = None) -> ImportJob:
    """Import one study from uploaded files or a zip; the job records the outcome."""
    collection = (
        Collection.objects.get_or_create(name=collection_name)[0] if collection_name else None
    )
    job = ImportJob.objects.create(
        source=ImportJob.Source.UPLOAD, status=ImportJob.Status.RUNNING, created_by=user,
        collection=collection, total=1,
    )  # fmt: skip
    try:
        pairs = _pairs(files)
        if not pairs:
            raise ImportFailed(
                "the upload holds no files", [{"code": "no_series", "message": "no files"}]
            )
        outcome = import_study(pairs, collection=collection)
    except ArchiveError as exc:
        _finish(job, ImportJob.Status.FAILED, [exc.error.as_dict()])
        raise ImportFailed(exc.error.message, [exc.error.as_dict()]) from None
    except ImportFailed as exc:
        _finish(job, ImportJob.Status.FAILED, exc.errors)
        raise
    with transaction.atomic():
        job.cases.add(outcome.case)
        _finish(job, ImportJob.Status.SUCCEEDED, outcome.excluded)
    return job


def _finish(job: ImportJob, status: str, errors: list[dict]) -> None:
    job.status = status
    job.done = job.total
    job.errors = errors
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "done", "errors", "finished_at"])
