"""Model fields as bundle text and back: one rule per field type, shared by export and import.

A table holds a model's own (non-relational) fields by name, so a field added to a model later
travels without a format change; relations are written by the bundle's keys (a case's code, a
reader's user name) by the caller. Text: empty = NULL, booleans ``true``/``false``, times ISO
8601, JSON fields compact JSON with sorted keys, floats Python's shortest round-trip repr.
"""

import datetime as dt
import json
from typing import Any

from django.db import models

from readerstudy.analysis.bundle import BundleError

TRUE, FALSE = "true", "false"


def own_fields(model: type[models.Model], exclude: tuple[str, ...] = ()) -> list[models.Field]:
    """Concrete fields that are no relation and no primary key, in declaration order."""
    return [
        f
        for f in model._meta.concrete_fields
        if not f.is_relation and not f.primary_key and f.name not in exclude
    ]


def encode(field: models.Field, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(field, models.JSONField):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, bool):
        return TRUE if value else FALSE
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def to_json(field: models.Field, value: Any) -> Any:
    """A field's value for a JSON file (times as ISO text)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def decode(field: models.Field, text: str | None, where: str) -> Any:
    """``where`` names the file and row in the error of a value that does not fit."""
    if text is None or text == "":
        if isinstance(field, models.JSONField) and not field.null:
            return field.get_default()
        if field.null:
            return None
        if isinstance(field, models.CharField | models.TextField):
            return ""
        raise BundleError("invalid_value", f"{where}: {field.name} is empty")
    try:
        if isinstance(field, models.JSONField):
            return json.loads(text)
        if isinstance(field, models.BooleanField):
            if text not in (TRUE, FALSE):
                raise ValueError(f"expected {TRUE} or {FALSE}")
            return text == TRUE
        value = field.to_python(text)
    except (ValueError, TypeError, Exception) as exc:
        raise BundleError("invalid_value", f"{where}: {field.name} = {text!r}: {exc}") from exc
    if isinstance(field, models.DateTimeField) and value is not None and value.tzinfo is None:
        raise BundleError("invalid_value", f"{where}: {field.name} has no time zone")
    return value


def from_json(field: models.Field, value: Any, where: str) -> Any:
    if isinstance(field, models.DateTimeField | models.DateField) and isinstance(value, str):
        return decode(field, value, where)
    return value


def fields_of(model: type[models.Model], data: dict[str, Any], where: str, *, exclude=()):
    """A JSON object's own fields of ``model`` as keyword arguments; unknown keys refused
    (a bundle written by a newer platform would otherwise lose them silently)."""
    known = {f.name: f for f in own_fields(model, exclude)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise BundleError(
            "unknown_field", f"{where}: {model.__name__} has no field(s) {', '.join(unknown)}"
        )
    return {k: from_json(known[k], v, where) for k, v in data.items()}


def dict_of(obj: models.Model, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    return {f.name: to_json(f, getattr(obj, f.attname)) for f in own_fields(type(obj), exclude)}
