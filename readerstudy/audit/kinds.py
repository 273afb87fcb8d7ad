"""The action kind and the study of a model change that django-auditlog records."""

from typing import Any

from auditlog.models import LogEntry

#: (app label, model name) -> the kind's prefix; the tracked models are in ``tracked``
PREFIXES: dict[tuple[str, str], str] = {
    ("studies", "readerstudy"): "study",
    ("studies", "studyreader"): "grant.reader",
    ("studies", "question"): "question",
    ("studies", "assistanceconfig"): "assistance",
    ("studies", "studycondition"): "condition",
    ("studies", "endpoint"): "endpoint",
    ("accounts", "user"): "user",
    ("ai", "modelversion"): "model",
    ("ai", "inferencejob"): "inference",
    ("cases", "importjob"): "case_import",
    ("exports", "analysisrun"): "analysis",
}

#: jobs: their creation is the request, later entries are status changes
JOBS = {"inference", "case_import", "analysis"}

VERBS = {
    LogEntry.Action.CREATE: "create",
    LogEntry.Action.UPDATE: "edit",
    LogEntry.Action.DELETE: "delete",
    LogEntry.Action.ACCESS: "access",
}


def _new_value(changes: Any, field: str) -> Any:
    """The new value of ``field`` in auditlog's ``{field: [old, new]}`` changes, else None."""
    if isinstance(changes, dict) and isinstance(changes.get(field), list | tuple):
        return changes[field][-1]
    return None


def kind_of_change(instance: Any, action: int | None, fields: dict[str, Any]) -> str:
    meta = instance._meta
    prefix = PREFIXES.get((meta.app_label, meta.model_name), f"{meta.app_label}.{meta.model_name}")
    verb = VERBS.get(action if action is not None else -1, "change")
    changes = fields.get("changes")
    if prefix == "study" and verb == "edit":
        status = _new_value(changes, "status")
        if status == "open":
            return "study.open"
        if status == "closed":
            return "study.close"
        if _new_value(changes, "statistician_access") in ("True", True):
            return "grant.statistician_access"
    if prefix == "model" and verb == "create":
        return "model.register"
    if prefix in JOBS:
        return f"{prefix}.request" if verb == "create" else f"{prefix}.{verb}"
    if prefix == "user" and verb == "edit":
        return "grant.role"
    if prefix == "grant.reader":
        return {"create": "grant.reader", "delete": "grant.reader_removed"}.get(
            verb, "grant.reader_edit"
        )
    return f"{prefix}.{verb}"


def study_id_of(instance: Any) -> int | None:
    """The study an object belongs to: the study itself, else its ``study_id``, else none."""
    meta = instance._meta
    if (meta.app_label, meta.model_name) == ("studies", "readerstudy"):
        return instance.pk
    study_id = getattr(instance, "study_id", None)
    return study_id if isinstance(study_id, int) else None
