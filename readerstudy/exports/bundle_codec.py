"""Model fields as bundle text and back: one rule per field type, shared by export and import.

A table holds a model's own (non-relational) fields by name, so a field added to a model later
travels without a format change; relations are written by the bundle's keys (a case's code, a
reader's user name) by the caller. Text: empty = NULL, booleans ``true``/``false``, times ISO
8601, JSON fields compact JSON with sorted keys, floats Python's shortest round-trip repr.
"""

import datetime as dt
import json
from collections.abc import Callable
from functools import partial
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


_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


def or_empty(convert: Callable[[Any], str]) -> Callable[[Any], str]:
    return lambda value: "" if value is None else convert(value)


def _bool(value: Any) -> str:
    return TRUE if value else FALSE


def encoder(field: models.Field) -> Callable[[Any], str]:
    """``encode`` of one field as a function of the value: what a table's rows call (the
    type tests are made once per column, not once per cell)."""
    if isinstance(field, models.JSONField):
        return or_empty(_JSON)
    if isinstance(field, models.BooleanField):
        return or_empty(_bool)
    if isinstance(field, models.DateTimeField | models.DateField):
        return or_empty(lambda value: value.isoformat())
    if isinstance(field, models.FloatField):
        return or_empty(lambda value: repr(value) if isinstance(value, float) else str(value))
    if isinstance(field, models.IntegerField | models.CharField | models.TextField):
        return or_empty(str)
    return lambda value: encode(field, value)


#: what a memo of encoded JSON cells holds at most (answers repeat: a few thousand texts)
MEMO_SIZE = 1 << 16


def memo(convert: Callable[[Any], Any], size: int = MEMO_SIZE) -> Callable[[Any], Any]:
    """``convert`` remembered for the last ``size`` distinct hashable values (first come): a
    table's JSON column repeats the same few answers hundreds of thousands of times."""
    seen: dict[Any, Any] = {}

    def cached(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            result = seen[value] = convert(value)
            if len(seen) > size:
                seen.pop(next(iter(seen)))
            return result
        except TypeError:  # not hashable (a driver that returns decoded JSON)
            return convert(value)

    return cached


def raw_encoder(field: models.Field, tz: dt.tzinfo) -> Callable[[Any], str] | None:
    """``encode`` of one field as a function of the value the database driver returns, before
    Django's conversion (what a streamed table reads, ``bundle_tables.raw_rows``): times as
    datetimes (naive on SQLite: in ``tz``, the connection's time zone) or ISO text; JSON as its
    text; booleans as booleans or 0/1. The cell is the one ``encode`` writes of the converted
    value. ``None``: the driver's value is written as it is (``csv`` writes ``None`` as an
    empty cell, a str as itself, an int by ``str`` and a float by ``repr``)."""
    if isinstance(field, models.JSONField):
        return or_empty(
            memo(lambda value: _JSON(json.loads(value) if isinstance(value, str) else value))
        )
    if isinstance(field, models.DateTimeField):
        return or_empty(_moment(tz))
    if isinstance(field, models.DateField):
        return or_empty(lambda value: value if isinstance(value, str) else value.isoformat())
    if isinstance(field, models.BooleanField):
        return encoder(field)
    if isinstance(
        field, models.FloatField | models.IntegerField | models.CharField | models.TextField
    ):
        return None
    return lambda value: encode(field, field.to_python(value))


def _moment(tz: dt.tzinfo) -> Callable[[Any], str]:
    """ISO 8601 text, with its offset, of a driver's time (aware, or naive in ``tz``)."""
    utc = tz.utcoffset(None) == dt.timedelta(0) if isinstance(tz, dt.timezone) else False
    fromisoformat = dt.datetime.fromisoformat

    def moment(value: Any) -> str:
        if isinstance(value, str):
            value = fromisoformat(value)
        if value.tzinfo is not None:
            return value.isoformat()
        if utc:  # what ``value.replace(tzinfo=UTC).isoformat()`` writes, without the copy
            return value.isoformat() + "+00:00"
        return value.replace(tzinfo=tz).isoformat()

    return moment


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


def decoder(field: models.Field) -> Callable[[str | None, str], Any]:
    """``decode`` of one field as a function of (text, where): what the import calls for the
    cells of its large tables (the type tests are made once per column)."""
    if isinstance(field, models.JSONField | models.BooleanField):
        return _literal_decoder(field)
    if field.choices and not isinstance(field, models.CharField | models.TextField):
        return partial(decode, field)
    empty = (
        None
        if field.null
        else ""
        if isinstance(field, models.CharField | models.TextField)
        else _EMPTY
    )  # noqa: E501
    if isinstance(field, models.CharField | models.TextField):
        return lambda text, where: text if text else empty
    convert: Callable[[str], Any]
    if isinstance(field, models.IntegerField):
        convert, what = int, "an integer"
    elif isinstance(field, models.DateTimeField):
        convert, what = dt.datetime.fromisoformat, "an ISO 8601 time"
    else:
        return partial(decode, field)

    def cell(text: str | None, where: str) -> Any:
        if not text:
            if empty is _EMPTY:
                raise BundleError("invalid_value", f"{where}: {field.name} is empty")
            return empty
        try:
            value: Any = convert(text)
        except ValueError as exc:
            raise BundleError(
                "invalid_value", f"{where}: {field.name} = {text!r} is not {what}: {exc}"
            ) from exc
        if what == "an ISO 8601 time" and value.tzinfo is None:
            raise BundleError("invalid_value", f"{where}: {field.name} has no time zone")
        return value

    return cell


_EMPTY = object()


def _literal_decoder(field: models.Field) -> Callable[[str | None, str], Any]:
    """``decoder`` of a JSON or boolean field: its text parsed at once; an empty cell and a
    refusal by ``decode``'s rules."""
    if isinstance(field, models.JSONField):
        loads = json.loads

        def json_cell(text: str | None, where: str) -> Any:
            if not text:
                return decode(field, text, where)  # the empty cell's rule
            try:
                return loads(text)
            except (ValueError, RecursionError) as exc:
                raise BundleError(
                    "invalid_value", f"{where}: {field.name} = {text!r}: {exc}"
                ) from exc

        return json_cell
    truth = {TRUE: True, FALSE: False}

    def bool_cell(text: str | None, where: str) -> Any:
        value = truth.get(text)  # type: ignore[arg-type]
        return decode(field, text, where) if value is None else value

    return bool_cell


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
