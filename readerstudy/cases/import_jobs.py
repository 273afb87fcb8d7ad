"""Import jobs, web side, beyond the upload itself: cancelling one.

An import can be cancelled while it is queued (an upload job still waiting for its files,
too); a running import is all-or-nothing and finishes (``ImportJob.cancellable`` is False).
"""

from readerstudy.core.errors import DomainError

from .models import ImportJob


class ImportJobRefused(DomainError):
    def __init__(self, code: str, message: str, status: int):
        super().__init__(code, message)
        self.status = status


def cancel_import(job_id, *, user) -> ImportJob:
    """Cancel an import of this user's (a platform admin may cancel any).

    Raises :class:`ImportJobRefused` (404, 403) and
    :class:`readerstudy.core.jobs.InvalidTransition` (409, a running or finished import).
    """
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        raise ImportJobRefused("not_found", "no such import job", 404)
    if job.created_by_id != user.pk and not getattr(user, "is_platform_admin", False):
        raise ImportJobRefused("not_your_job", "this import job was created by another user", 403)
    return job.cancel()
