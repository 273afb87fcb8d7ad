"""Errors of the study and reading services, with a stable code for API clients."""

from readerstudy.core.errors import DomainError


class StudyError(DomainError):
    """A request the protocol does not allow."""

    status = 400


class ProtocolConflict(StudyError):
    status = 409


class NotAvailable(StudyError):
    """Answered as 404: the caller may not learn whether the object exists."""

    status = 404
