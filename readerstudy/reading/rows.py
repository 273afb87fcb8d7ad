"""Rows of explicit SQL as model instances, for the reading API's hot lookups.

Django compiles a queryset to SQL on every evaluation: for one assignment with the tables it is
read with (study, session, prerequisite, case, series) that costs 2-4 ms of CPU against
~0.3 ms to run the statement on PostgreSQL (prepared). The reading API makes such a lookup on
every request, so its selectors write them as SQL, run them through the connection's cursor
with parameters, and turn each row into what ``select_related`` gives: one instance per joined
table (``Model.from_db``), each assigned to the relation it was joined on.

Values are converted as the ORM converts them: a field's ``from_db_value`` (JSON) and, on a
database without time zone support (SQLite), datetimes made aware in the connection's time zone.
A table with a field that would need another conversion is refused when it is declared.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

# Field types whose values the cursor returns as the ORM would (after the conversions above).
SUPPORTED = frozenset(
    {
        "AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField",
        "DateTimeField", "FloatField", "ForeignKey", "IntegerField", "JSONField",
        "OneToOneField", "PositiveBigIntegerField", "PositiveIntegerField",
        "PositiveSmallIntegerField", "SlugField", "SmallIntegerField", "TextField",
    }
)  # fmt: skip


BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1


def bigint(value) -> int | None:
    """``value`` as a parameter for an integer column, or None where it is out of the column's
    range (a queryset answers such a lookup with no rows; SQLite cannot bind it)."""
    return int(value) if BIGINT_MIN <= value <= BIGINT_MAX else None


@dataclass(frozen=True)
class Table:
    """A model selected under ``alias``; joined to ``parent`` (an alias) through its
    relation ``relation`` (a foreign key, or a reverse one-to-one such as ``assistance``)."""

    alias: str
    model: type[models.Model]
    parent: str | None = None
    relation: str | None = None


@dataclass(frozen=True)
class _Slice:
    """Where a table's columns are in the row, and which of them are converted."""

    table: Table
    relation: str  # on the parent ("" for the first table)
    start: int
    stop: int
    attnames: list[str]
    pk: int
    decoded: list[tuple[int, Any]]  # (position, field with ``from_db_value``)
    datetimes: list[int]


def _slice(table: Table, start: int) -> _Slice:
    fields = table.model._meta.concrete_fields  # the order ``from_db`` expects
    for field in fields:
        if field.get_internal_type() not in SUPPORTED:
            raise ImproperlyConfigured(
                f"{table.model.__name__}.{field.name}: {field.get_internal_type()} values are "
                "not converted here"
            )
    return _Slice(
        table=table,
        relation=table.relation or "",
        start=start,
        stop=start + len(fields),
        attnames=[f.attname for f in fields],
        pk=fields.index(table.model._meta.pk),
        decoded=[(i, f) for i, f in enumerate(fields) if hasattr(f, "from_db_value")],
        datetimes=[i for i, f in enumerate(fields) if f.get_internal_type() == "DateTimeField"],
    )


class Tables:
    """The SELECT list (``columns``) of joined tables and the instances of a row (``read``).

    The first table is the one answered; each later one hangs from an earlier one. Columns the
    statement selects after ``columns`` are set on the first table's instance under the names
    ``annotations`` (as ``annotate`` or ``raw`` would).
    """

    def __init__(self, *tables: Table, annotations: tuple[str, ...] = ()):
        self.tables = tables
        self.annotations = annotations
        self._slices: list[_Slice] = []
        seen: set[str] = set()
        start = 0
        for table in tables:
            if (
                (table.parent is None) != (table is tables[0])
                or (table.parent is None) != (table.relation is None)
                or (table.parent is not None and table.parent not in seen)
            ):
                raise ImproperlyConfigured(f"{table.alias}: joined to an earlier table, or first")
            seen.add(table.alias)
            self._slices.append(_slice(table, start))
            start = self._slices[-1].stop
        self._stop = start
        self.columns = ", ".join(
            f'{s.table.alias}."{field.column}"'
            for s in self._slices
            for field in s.table.model._meta.concrete_fields
        )

    def read(self, row: Sequence[Any], connection: BaseDatabaseWrapper) -> Any:
        """The first table's instance of ``row``, with the related instances attached."""
        aware = settings.USE_TZ and not connection.features.supports_timezones
        instances: dict[str, models.Model] = {}
        for s in self._slices:
            values = list(row[s.start : s.stop])
            if values[s.pk] is None:  # no row on this side of a LEFT JOIN
                if s.table.parent in instances:
                    setattr(instances[s.table.parent], s.relation, None)
                continue
            for i, field in s.decoded:
                if values[i] is not None:
                    values[i] = field.from_db_value(values[i], None, connection)
            if aware:  # stored in the connection's time zone, read back naive
                for i in s.datetimes:
                    if values[i] is not None and timezone.is_naive(values[i]):
                        values[i] = timezone.make_aware(values[i], connection.timezone)
            instance = s.table.model.from_db(connection.alias, s.attnames, values)
            instances[s.table.alias] = instance
            if s.table.parent is not None:
                setattr(instances[s.table.parent], s.relation, instance)
        answered = instances[self.tables[0].alias]
        for name, value in zip(self.annotations, row[self._stop :], strict=True):
            setattr(answered, name, value)
        return answered

    def all(self, sql: str, params: Sequence[Any], using: str = DEFAULT_DB_ALIAS) -> list[Any]:
        """The rows of ``sql`` as instances."""
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [self.read(row, connection) for row in rows]

    def first(self, sql: str, params: Sequence[Any], using: str = DEFAULT_DB_ALIAS) -> Any:
        """The first row of ``sql`` as instances, or None."""
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return None if row is None else self.read(row, connection)
