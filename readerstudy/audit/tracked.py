"""The models whose changes django-auditlog records (with before/after of changed fields).

Jobs record their creation (the request) and their status changes, not their progress; users
record their role and flags (grants), not ``last_login``.
"""

from auditlog.registry import auditlog
from django.apps import apps

#: "app_label.Model" -> auditlog.register keyword arguments
TRACKED: dict[str, dict[str, list[str]]] = {
    "studies.ReaderStudy": {},
    "studies.StudyReader": {},
    "studies.Question": {},
    "studies.AssistanceConfig": {},
    "studies.StudyCondition": {},
    "studies.Endpoint": {},
    "accounts.User": {"include_fields": ["role", "is_active", "is_staff", "is_superuser"]},
    "ai.ModelVersion": {"exclude_fields": ["manifest"]},
    "ai.InferenceJob": {"include_fields": ["status", "case", "model_version"]},
    "cases.ImportJob": {"include_fields": ["status", "source"]},
    "exports.AnalysisRun": {"include_fields": ["status", "options"]},
}


def _untracked(model: type) -> list[str]:
    """The primary key and reverse relations: no before/after of their own."""
    return [
        f.name
        for f in model._meta.get_fields()  # type: ignore[attr-defined]
        if not f.concrete or getattr(f, "primary_key", False)
    ]


def register_all() -> None:
    for label, options in TRACKED.items():
        model = apps.get_model(label)
        if not auditlog.contains(model):
            exclude = [*options.get("exclude_fields", []), *_untracked(model)]
            auditlog.register(model, **{**options, "exclude_fields": exclude})
