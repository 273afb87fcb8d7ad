"""Errors of the panel services, with a stable code for API clients and pages."""

from readerstudy.core.errors import DomainError


class PanelError(DomainError):
    status = 400


class PanelConflict(PanelError):
    """The panel is not in the state the request needs."""

    status = 409


class PanelNotAvailable(PanelError):
    """Answered as 404: the caller may not learn whether the panel exists."""

    status = 404
