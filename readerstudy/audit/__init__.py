"""Append-only audit trail: model changes (django-auditlog) and explicit events in one table."""

from typing import Any


def record(actor: Any, kind: str, obj: Any, study: Any = None, **detail: Any) -> Any:
    """Write one explicit event (a download, a login, a run); see :func:`services.record`."""
    from .services import record as _record

    return _record(actor, kind, obj, study=study, **detail)
