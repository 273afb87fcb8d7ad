"""Cells of the bundle's large tables straight to database parameters, and their ``INSERT``.

The import writes answer revisions, assignments and exposures (a million rows and more) with
``executemany`` instead of model instances. Each cell is checked by its field's rule
(``bundle_codec.decoder``) and prepared as ``bulk_create`` would (``get_db_prep_save``). A row
is first converted the fast way: no call for a non-null text field, ``int`` for an integer,
each distinct text of a JSON column decoded and prepared once (a few distinct answers in a
million revisions), a UTC time in the export's form sliced into SQLite's stored text once
``fromisoformat`` has read it. Where any of that fails the row's cells are checked one by one,
and the refusal names the file, the row and the field.
"""

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connections, models, router

from .bundle_codec import MEMO_SIZE, decoder

BATCH = 5000

#: (text, where) -> the database parameter; ``None``: the text itself is the parameter
Param = Callable[[str, str], Any] | None

# Fields whose decoded value (str, int, float, bool, a related row's id) the database driver
# takes as it is: preparing them would return the same value.
_NATIVE = (
    models.CharField, models.TextField, models.IntegerField, models.FloatField,
    models.BooleanField,
)  # fmt: skip


def preparation(field: models.Field, connection) -> Callable[[Any], Any] | None:
    """``get_db_prep_save`` of a decoded value, as a function (``None``: the value as it is)."""
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    if isinstance(target, _NATIVE):
        return None
    if isinstance(field, models.DateTimeField):  # an aware datetime (``decoder``)
        if connection.vendor == "sqlite" and settings.USE_TZ:
            return partial(_sqlite_moment, connection.timezone)
        return connection.ops.adapt_datetimefield_value
    return partial(field.get_db_prep_save, connection=connection)


def _sqlite_moment(tz, value):
    """SQLite's ``adapt_datetimefield_value`` of an aware datetime (its naive text in the
    connection's time zone), without its per-value checks of the settings."""
    return None if value is None else str(value.astimezone(tz).replace(tzinfo=None))


def checked(field: models.Field, connection) -> Param:
    """A cell's text to the parameter of ``field``'s column, checked (``BundleError`` naming
    ``where`` when it does not fit)."""
    if isinstance(field, models.CharField | models.TextField) and not field.null:
        return None  # decoder: the text, "" for an empty cell (choices are not checked)
    cell = decoder(field)
    prepare = preparation(field, connection)
    if prepare is None:
        return cell
    return lambda text, where: prepare(cell(text, where))


Fast = Callable[[str], Any] | None


def fast(field: models.Field, connection, check: Param) -> Fast:
    """``check`` of a cell that fits, as a function of its text alone, faster where it can
    be: an error of any kind means the cell must be checked again (``Columns.values``)."""
    if check is None:
        return None
    if (
        isinstance(field, models.IntegerField)
        and not field.null
        and not field.choices
        and preparation(field, connection) is None
    ):
        return int  # the decoder's int(text); an empty cell raises and is checked again
    if isinstance(field, models.JSONField):
        return _remembered(lambda text: check(text, ""))
    if isinstance(field, models.DateTimeField) and _utc_sqlite(connection):
        return _utc_text
    return lambda text: check(text, "")


def _utc_sqlite(connection) -> bool:
    tz = connection.timezone
    return (
        connection.vendor == "sqlite"
        and settings.USE_TZ
        and isinstance(tz, dt.timezone)
        and tz.utcoffset(None) == dt.timedelta(0)
    )


# the export's text of a UTC time (``isoformat``): SQLite stores it as ``str`` of the naive time
_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00")


def _utc_text(text: str) -> str:
    if not _UTC.fullmatch(text):
        raise ValueError("not the export's UTC text")
    dt.datetime.fromisoformat(text)  # a real time (no 30 February)
    return text[:10] + " " + text[11:-6]


def _remembered(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """``convert`` of each distinct text once (the first ``MEMO_SIZE`` texts kept)."""
    seen: dict[str, Any] = {}

    def cached(text: str) -> Any:
        try:
            return seen[text]
        except KeyError:
            value = convert(text)
            if len(seen) < MEMO_SIZE:
                seen[text] = value
            return value

    return cached


def _constant(value: Any) -> Callable[[str], Any]:
    return lambda text: value


def _constant_cell(value: Any) -> Callable[[str, str], Any]:
    return lambda text, where: value


class Columns:
    """The parameters of a table's own ``fields`` from a row's cells (``index``: the file's
    {column: position}); a column the bundle lacks takes the field's default."""

    def __init__(self, fields: list[models.Field], index: dict[str, int], connection):
        self.fast: list[tuple[int, Fast]] = []
        self.checked: list[tuple[int, Param]] = []
        for f in fields:
            if f.name in index:
                check = checked(f, connection)
                self.checked.append((index[f.name], check))
                self.fast.append((index[f.name], fast(f, connection, check)))
            else:
                prepare = preparation(f, connection)
                default = f.get_default()
                value = default if prepare is None else prepare(default)
                self.checked.append((0, _constant_cell(value)))
                self.fast.append((0, _constant(value)))

    def values(self, cells: list[str], name: str, number: int = 0) -> list[Any]:
        """The parameters of row ``number`` of file ``name`` (no number: ``name`` names the
        row): the fast conversions, and where one fails, every cell checked (the refusal names
        the file, row and field)."""
        try:
            return [cells[i] if f is None else f(cells[i]) for i, f in self.fast]
        except Exception:  # noqa: BLE001 - checked again: the checked path raises the refusal
            where = f"{name} row {number}" if number else name
            return [cells[i] if c is None else c(cells[i], where) for i, c in self.checked]


def connection_for(model: type[models.Model]):
    return connections[router.db_for_write(model)]


def _batched(items: Iterable, size: int = BATCH) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def insert(model: type[models.Model], columns: list[models.Field], rows: Iterable) -> None:
    """INSERT ``rows`` (sequences of database parameters, one per field of ``columns``, as
    ``values`` gives) into ``model``'s table: on PostgreSQL with ``COPY`` (psycopg's
    ``Cursor.copy``; a refusal raised by ``rows`` ends the copy with an error and the
    transaction rolls back), elsewhere with ``executemany`` in batches. No model instance per
    row (no signals: none of the bulk-imported models has a receiver)."""
    connection = connection_for(model)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(f.column) for f in columns)
    with connection.cursor() as cursor:
        copy = getattr(cursor.cursor, "copy", None) if connection.vendor == "postgresql" else None
        if copy is not None:  # psycopg 3
            with copy(f"COPY {table} ({names}) FROM STDIN") as stream:
                for row in rows:
                    stream.write_row(row)
            return
        sql = "INSERT INTO {} ({}) VALUES ({})".format(
            table, names, ", ".join(["%s"] * len(columns))
        )
        for batch in _batched(rows):
            cursor.executemany(sql, batch)
