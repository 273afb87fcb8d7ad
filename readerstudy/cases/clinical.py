"""Clinical data of cases: the variable catalogue, the clinical CSV import and case edits.

The CSV has a ``case_id`` column (the case code; ``case_code`` is accepted too) and one column
per variable of the catalogue. Every row is checked first, as the labels CSV is; any problem
(unknown case or column, a value of the wrong type or outside the options, a case given twice)
is reported with its row and column and nothing is stored. A blank cell clears the value.

An ``etiology`` value also sets the case's binary label (``GroundTruth.etiology``) to the
seed-001 endpoint's ``cvt`` or ``other`` (:func:`clinical_schema.binary_etiology`), so the
endpoint's truth follows from the detailed cause; a case labelled in another vocabulary
(e.g. ``cvst_ich``) is refused rather than relabelled.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from readerstudy.core.jsontext import text_problem

from .clinical_schema import (
    BINARY_ETIOLOGY,
    BUILTIN_NAMES,
    BUILTINS,
    Kind,
    Variable,
    binary_etiology,
    name_problem,
    parse_value,
)
from .csvfiles import read_csv
from .errors import ClinicalError, LabelError
from .labels import LabelSummary
from .models import Case, ClinicalRecord, ClinicalVariable, Collection, GroundTruth

CASE_COLUMNS = ("case_id", "case_code")
SEED001_LABELS = frozenset(BINARY_ETIOLOGY.values())
MAX_OPTIONS = 50


def _extra(variable: ClinicalVariable) -> Variable:
    return Variable(
        name=variable.name,
        kind=Kind(variable.kind),
        label=variable.label,
        options=tuple(variable.options or ()),
        unit=variable.unit,
    )


def catalogue() -> dict[str, Variable]:
    """Every variable by name: the built-ins, then the study-defined extras."""
    out = {v.name: v for v in BUILTINS}
    out.update((v.name, _extra(v)) for v in ClinicalVariable.objects.all())
    return out


def define_variable(
    name: str, kind: str, options: Iterable[str] = (), *, label: str = "", unit: str = ""
) -> ClinicalVariable:
    """Declare an extra variable. Raises ClinicalError naming every problem."""
    name = name.strip()
    options = [o.strip() for o in options if o.strip()]
    problems = [p for p in [name_problem(name)] if p]
    if name in BUILTIN_NAMES or ClinicalVariable.objects.filter(name=name).exists():
        problems.append(f"variable {name!r} already exists")
    if kind not in ClinicalVariable.Kind.values:
        problems.append(f"type {kind!r} is not one of {', '.join(ClinicalVariable.Kind.values)}")
    if kind == Kind.CATEGORY and len(set(options)) < 2:
        problems.append("a category needs at least two different options")
    if kind != Kind.CATEGORY and options:
        problems.append("only a category has options")
    if len(options) > MAX_OPTIONS or any(len(o) > 60 or text_problem(o) for o in options):
        problems.append(f"at most {MAX_OPTIONS} options of at most 60 characters each")
    for text, limit, what in ((label, 120, "label"), (unit, 32, "unit")):
        if len(text) > limit or text_problem(text):
            problems.append(f"the {what} must be text of at most {limit} characters")
    if problems:
        raise ClinicalError(problems)
    return ClinicalVariable.objects.create(
        name=name, kind=kind, options=list(dict.fromkeys(options)), label=label, unit=unit
    )


def parse_definition(spec: str) -> tuple[str, str, list[str]]:
    """``name:type`` or ``name:category:opt1|opt2|...`` (the command line's ``--define``)."""
    parts = spec.split(":", 2)
    if len(parts) < 2:
        raise ClinicalError([f"--define {spec!r}: expected NAME:TYPE or NAME:category:A|B"])
    options = parts[2].split("|") if len(parts) == 3 else []
    return parts[0], parts[1], options


def value_problems(
    texts: Mapping[str, str], variables: Mapping[str, Variable]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """(typed values, [(column, problem)]) of one row of texts by variable name."""
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for column, text in texts.items():
        variable = variables.get(column)
        if variable is None:
            problems.append((column, f"column {column!r} is not a clinical variable"))
            continue
        problem = text_problem(text or "")
        if problem:
            problems.append((column, f"column {column!r} {problem}"))
            continue
        try:
            values[column] = parse_value(variable, text or "")
        except ValueError as exc:
            problems.append((column, f"column {column!r}: {exc}"))
    return values, problems


def _etiology_problem(case: Case, values: Mapping[str, Any]) -> str | None:
    etiology = values.get("etiology")
    if etiology is None:
        return None
    truth = GroundTruth.objects.filter(case=case).first()
    if truth is not None and truth.etiology and truth.etiology not in SEED001_LABELS:
        return (
            f"column 'etiology': the case is labelled {truth.etiology!r}, not with the "
            f"seed-001 labels ({', '.join(sorted(SEED001_LABELS))}) that etiology sets"
        )
    return None


def _case_column(header: list[str]) -> str:
    present = [c for c in CASE_COLUMNS if c in header]
    if len(present) != 1:
        raise ClinicalError(["the CSV needs one 'case_id' column (the case code)"])
    return present[0]


def import_clinical_csv(source, *, collection: str | None = None) -> LabelSummary:
    """Check every row of a clinical CSV (a path or an uploaded file), then store all of them.

    ``collection``: the rows must name cases of that collection. Raises ClinicalError."""
    try:
        header, records = read_csv(source)
    except LabelError as exc:
        raise ClinicalError(exc.errors) from None
    case_column = _case_column(header)
    variables = catalogue()
    columns = [c for c in header if c != case_column]
    unknown = [c for c in columns if c not in variables]
    if unknown:
        known = ", ".join(variables)
        raise ClinicalError(
            [f"line 1, column {c!r}: not a clinical variable (known: {known})" for c in unknown]
        )
    scope = Case.objects.all()
    if collection is not None:
        if not Collection.objects.filter(name=collection).exists():
            raise ClinicalError([f"no collection {collection!r}"])
        scope = scope.filter(collection__name=collection)
    errors: list[str] = []
    rows: list[tuple[Case, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for number, record in records:
        code = (record.get(case_column) or "").strip()
        where = f"row {number}"
        if not code:
            errors.append(f"{where}, column {case_column!r}: empty")
            continue
        if code in seen:
            errors.append(
                f"{where}, column {case_column!r}: case {code!r} is also in row {seen[code]}"
            )
            continue
        seen[code] = number
        case = None if text_problem(code) else scope.filter(code=code).first()
        if case is None:
            inside = f" in collection {collection!r}" if collection is not None else ""
            errors.append(f"{where}, column {case_column!r}: no case {code!r}{inside}")
        texts = {c: record.get(c) or "" for c in columns}
        values, problems = value_problems(texts, variables)
        errors.extend(f"{where}, {problem}" for _, problem in problems)
        if case is None or problems:
            continue
        etiology = _etiology_problem(case, values)
        if etiology:
            errors.append(f"{where}, {etiology}")
            continue
        rows.append((case, values))
    if errors:
        raise ClinicalError(errors)
    created = 0
    with transaction.atomic():
        for case, values in rows:
            created += _store(case, values, source="clinical csv", replace=False)
    return LabelSummary(len(rows), created, what="clinical data")


def _store(case: Case, values: Mapping[str, Any], *, source: str, replace: bool) -> bool:
    """Store checked values (None clears one); returns whether the case had no record yet."""
    record, created = ClinicalRecord.objects.select_for_update().get_or_create(case=case)
    merged = {} if replace else dict(record.values)
    merged.update(values)
    record.values = {k: v for k, v in merged.items() if v is not None}
    record.source = source
    record.save()
    if values.get("etiology") is not None:
        truth, _ = GroundTruth.objects.get_or_create(case=case)
        truth.etiology = binary_etiology(values["etiology"])
        truth.source = truth.source or source
        truth.save()
    return created


def set_clinical(case: Case, texts: Mapping[str, str], *, source: str) -> ClinicalRecord:
    """Replace a case's clinical values with ``texts`` (every catalogue variable, as text).

    The CSV's rules. Raises ClinicalError with ``column: problem`` entries."""
    values, problems = value_problems(texts, catalogue())
    etiology = None if problems else _etiology_problem(case, values)
    messages = [problem for _, problem in problems] + ([etiology] if etiology else [])
    if messages:
        raise ClinicalError(messages)
    with transaction.atomic():
        _store(case, values, source=source, replace=True)
    return ClinicalRecord.objects.get(case=case)


__all__ = [
    "catalogue",
    "define_variable",
    "import_clinical_csv",
    "parse_definition",
    "set_clinical",
    "value_problems",
]
