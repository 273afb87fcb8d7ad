"""Querysets compiled to SQL once per process, for the reading API's hot lookups.

Django compiles a queryset to SQL every time it is evaluated. For the reading API's lookups (one
row by primary key and owner, with two to six joined tables) that compilation cost about four
times the CPU of running the statement: ~2 ms against ~0.4 ms per request and lookup.

A ``CompiledQuery`` is declared with a function that builds the queryset from its (typed)
parameters. On first use (per thread and database connection) it builds and compiles the
queryset twice, with two sets of stand-in values, and records which statement parameters
differ: those are where the caller's values go. Later calls only bind the real values, run the
statement through the connection's cursor (so query logging and wrappers see it), and turn the
rows into model instances with their ``select_related`` objects and annotations, as the
queryset itself would.

Parameters must reach the SQL unchanged: use them with exact or comparison lookups on plain
columns (``pk=``, ``reader__user=``, ``position__lt=``, ``client_request_id=``). A parameter
that changes the SQL, is transformed on its way (``__icontains``) or does not reach it is an
error at first use, never a silent wrong query.
"""

import threading
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models.query import ModelIterable, get_related_populators

_BIGINT = range(-(2**63), 2**63)


def _sample(kind: type, name: str, index: int, variant: int):
    """A stand-in value for compiling: small enough for any integer column, distinct per
    parameter and per variant."""
    if kind is int:
        return 20_000 + 1_000 * variant + index
    if kind is str:
        return f"compiled-query-{variant}-{name}"
    raise ImproperlyConfigured(f"parameter {name!r}: only int and str parameters are supported")


@dataclass
class _Plan:
    sql: str
    params: list
    slots: dict[str, list[int]]
    compiler: object
    model: type
    fields: slice
    init_list: list[str]
    populators: list
    converters: dict
    annotations: dict


class CompiledQuery:
    """``build(**params)`` -> queryset, compiled once; ``.all(**params)`` -> model instances.

    Declare each parameter with its type: ``CompiledQuery(build, user=int, request_id=str)``.
    """

    def __init__(self, build, **parameters: type):
        if not parameters:
            raise ImproperlyConfigured("a CompiledQuery needs at least one parameter")
        self.build = build
        self.parameters = parameters
        self.samples = [
            {
                name: _sample(kind, name, i, variant)
                for i, (name, kind) in enumerate(parameters.items())
            }
            for variant in (0, 1)
        ]
        self._local = threading.local()

    def _plan(self, db: str) -> _Plan:
        plans = self._local.__dict__.setdefault("plans", {})
        connection = connections[db]
        key = (db, id(connection))
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = self._compile(db)
        return plan

    def _compile(self, db: str) -> _Plan:
        # Compiled twice with different stand-ins: the parameters that differ are the slots.
        compiled = []
        for sample in self.samples:
            queryset = self.build(**sample).using(db)
            if queryset._iterable_class is not ModelIterable:
                raise ImproperlyConfigured("a CompiledQuery must select model instances")
            compiler = queryset.query.get_compiler(using=db)
            sql, params = compiler.as_sql()
            compiled.append((sql, list(params), compiler))
        (sql, params, compiler), (other_sql, other_params, _) = compiled
        if sql != other_sql or len(params) != len(other_params):
            raise ImproperlyConfigured("the parameters change the shape of the SQL")
        slots: dict[str, list[int]] = {name: [] for name in self.parameters}
        by_sample = {(v, self.samples[1][name]): name for name, v in self.samples[0].items()}
        for i, pair in enumerate(zip(params, other_params, strict=True)):
            if pair[0] == pair[1]:
                continue  # a constant of the query
            name = by_sample.get(pair)
            if name is None:
                raise ImproperlyConfigured(
                    f"parameter value {pair[0]!r} was transformed on its way to the SQL; use "
                    "parameters with exact or comparison lookups on plain columns"
                )
            slots[name].append(i)
        for name, positions in slots.items():
            if not positions:
                raise ImproperlyConfigured(
                    f"parameter {name!r} does not reach the SQL unchanged; use it with an exact "
                    "or comparison lookup on a plain column"
                )
        klass_info, select = compiler.klass_info, compiler.select
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        return _Plan(
            sql=sql,
            params=params,
            slots=slots,
            compiler=compiler,
            model=klass_info["model"],
            fields=slice(first, last),
            init_list=[column[0].target.attname for column in select[first:last]],
            populators=get_related_populators(klass_info, select, db),
            converters=compiler.get_converters([s[0] for s in select[: compiler.col_count]]),
            annotations=dict(compiler.annotation_col_map or {}),
        )

    def all(self, *, using: str = "default", **values) -> list:
        if values.keys() != self.parameters.keys():
            raise TypeError(f"expected parameters {sorted(self.parameters)}, got {sorted(values)}")
        if any(self.parameters[name] is int and v not in _BIGINT for name, v in values.items()):
            return []  # as Django answers an integer lookup out of the column's range
        plan = self._plan(using)
        params = list(plan.params)
        for name, value in values.items():
            for i in plan.slots[name]:
                params[i] = value
        with connections[using].cursor() as cursor:
            cursor.execute(plan.sql, params)
            rows = cursor.fetchall()
        if plan.converters:
            rows = plan.compiler.apply_converters(rows, plan.converters)
        objects = []
        for row in rows:
            obj = plan.model.from_db(using, plan.init_list, row[plan.fields])
            for populator in plan.populators:
                populator.populate(row, obj)
            for name, position in plan.annotations.items():
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects

    def first(self, *, using: str = "default", **values):
        rows = self.all(using=using, **values)
        return rows[0] if rows else None
