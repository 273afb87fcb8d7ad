"""Predictions of a model that runs elsewhere, imported as a model version of a study.

The file gives per case (and optionally per slice) probabilities of the study's endpoint
labels:

* CSV: a ``case_id`` column and one column per label: a binary endpoint's positive label
  value (``cvst_ich``), each label of a multi-label endpoint (``any``, ``iph``, ...), and for a
  multi-class endpoint one column per class named ``<endpoint code>=<class>``
  (``location=deep``). An empty cell is no probability. The optional slices CSV has
  ``case_id``, ``slice`` (the de-identified SOP Instance UID, or the 0-based index in the
  series' geometric order) and one column per binary / multi-label label.
* JSON: ``{"model": {...}, "cases": {case_id: {"probabilities": {label: p, endpoint code:
  {class: p}}, "slices": {uid or index: {label: p}}}}}``; ``model`` may carry ``name``,
  ``version``, ``description`` and ``operating_points`` ({name: {"threshold": t} or
  {"thresholds": {label: t}}}).

Everything is checked before anything is stored, and stored in one transaction: a model
version with a synthesised schema-2.0 manifest (``external: true``, the files' names and
sha256, who imported them and when) and one succeeded job with its output per case.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from readerstudy.ai.models import InferenceJob, InferenceOutput, ModelVersion
from readerstudy.ai.runner import slice_uids
from readerstudy.ai.services import params_hash
from readerstudy.cases.models import Case

from .errors import StudyError
from .models import EndpointKind, ReaderStudy

DEFAULT_OPERATING_POINT = "default"
DEFAULT_THRESHOLD = 0.5
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,39}$")


class PredictionsRefused(StudyError):
    def __init__(self, message: str):
        super().__init__("bad_predictions", message)


@dataclass(frozen=True)
class Head:
    name: str
    kind: str
    labels: tuple[str, ...]
    positive: str | None = None

    @property
    def scored(self) -> tuple[str, ...]:
        return (
            (self.positive,) if self.kind == EndpointKind.BINARY and self.positive else self.labels
        )


@dataclass
class CaseRow:
    where: str  # "row 3" / "case C1" (for errors)
    code: str
    probabilities: dict[str, Any]
    slices: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class SourceFile:
    name: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def study_heads(study: ReaderStudy) -> list[Head]:
    """The study's endpoints as model heads (a label already taken by an earlier one is not
    repeated)."""
    heads: list[Head] = []
    seen: set[str] = set()
    for endpoint in study.endpoints.order_by("order", "pk"):
        values = tuple(v["value"] for v in endpoint.labels if v["value"] not in seen)
        if not values:
            continue
        positive = values[0] if endpoint.kind == EndpointKind.BINARY else None
        heads.append(Head(endpoint.code, endpoint.kind, values, positive))
        seen.update(values)
    if not heads:
        raise PredictionsRefused(f"study {study.pk} has no endpoint labels to predict")
    return heads


# --- parsing ---------------------------------------------------------------------------------


def _probability(value: Any, where: str) -> float:
    try:
        p = float(value)
    except (TypeError, ValueError):
        raise PredictionsRefused(f"{where}: {value!r} is not a probability") from None
    if isinstance(value, bool) or not math.isfinite(p) or not 0.0 <= p <= 1.0:
        raise PredictionsRefused(f"{where}: probability {value!r} is outside [0, 1]")
    return p


def _csv_rows(source: SourceFile) -> tuple[list[str], list[dict[str, str]]]:
    try:
        text = source.content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PredictionsRefused(f"{source.name}: not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    if "case_id" not in columns:
        raise PredictionsRefused(f"{source.name}: no case_id column (columns: {columns})")
    rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    if not rows:
        raise PredictionsRefused(f"{source.name}: no rows")
    return columns, rows


def _column_target(column: str, heads: list[Head], where: str) -> tuple[str, str | None]:
    """(label or head, class) of a probability column; refuses an unknown one."""
    labels = {label for h in heads if h.kind != EndpointKind.MULTI_CLASS for label in h.scored}
    classes = {h.name: h.labels for h in heads if h.kind == EndpointKind.MULTI_CLASS}
    if "=" in column:
        head, cls = column.split("=", 1)
        if head in classes and cls in classes[head]:
            return head, cls
    elif column in labels:
        return column, None
    known = sorted(labels) + [f"{h}={c}" for h, cs in classes.items() for c in cs]
    raise PredictionsRefused(f"{where}: unknown label column {column!r} (known: {known})")


def parse_csv(source: SourceFile, heads: list[Head]) -> list[CaseRow]:
    columns, rows = _csv_rows(source)
    targets = {
        c: _column_target(c, heads, f"{source.name} header") for c in columns if c != "case_id"
    }
    out = []
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        where = f"{source.name} row {number}"
        if not row.get("case_id"):
            raise PredictionsRefused(f"{where}: empty case_id")
        probabilities: dict[str, Any] = {}
        for column, (label, cls) in targets.items():
            if row.get(column, "") == "":
                continue
            p = _probability(row[column], f"{where}, column {column!r}")
            if cls is None:
                probabilities[label] = p
            else:
                probabilities.setdefault(label, {})[cls] = p
        out.append(CaseRow(where, row["case_id"], probabilities))
    return out


def parse_slices_csv(source: SourceFile, heads: list[Head]) -> dict[str, dict[str, dict]]:
    """{case code: {slice key: {label: p}}} of a slices CSV (binary / multi-label labels)."""
    columns, rows = _csv_rows(source)
    if "slice" not in columns:
        raise PredictionsRefused(f"{source.name}: no slice column (columns: {columns})")
    labels = [c for c in columns if c not in ("case_id", "slice")]
    for column in labels:
        _, cls = _column_target(column, heads, f"{source.name} header")
        if cls is not None:
            raise PredictionsRefused(
                f"{source.name} header: {column!r}: slice probabilities are per label, "
                "not per class"
            )
    out: dict[str, dict[str, dict]] = {}
    for number, row in enumerate(rows, start=2):
        where = f"{source.name} row {number}"
        per_case = out.setdefault(row.get("case_id", ""), {})
        key = row.get("slice", "")
        if not key:
            raise PredictionsRefused(f"{where}: empty slice")
        if key in per_case:
            raise PredictionsRefused(f"{where}: slice {key!r} of case {row['case_id']} twice")
        per_case[key] = {
            c: _probability(row[c], f"{where}, column {c!r}") for c in labels if row.get(c)
        }
    return out


def parse_json(source: SourceFile, heads: list[Head]) -> tuple[dict, list[CaseRow]]:
    try:
        data = json.loads(source.content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PredictionsRefused(f"{source.name}: not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cases"), dict):
        raise PredictionsRefused(f"{source.name}: expected {{'model': ..., 'cases': {{...}}}}")
    model = data.get("model") or {}
    if not isinstance(model, dict):
        raise PredictionsRefused(f"{source.name}: 'model' must be an object")
    rows = []
    for code, entry in data["cases"].items():
        where = f"{source.name} case {code}"
        if not isinstance(entry, dict) or not isinstance(entry.get("probabilities"), dict):
            raise PredictionsRefused(f"{where}: expected {{'probabilities': {{...}}}}")
        probabilities: dict[str, Any] = {}
        for label, value in entry["probabilities"].items():
            if isinstance(value, dict):
                probabilities[label] = {}
                for cls, p in value.items():
                    _column_target(f"{label}={cls}", heads, where)
                    probabilities[label][cls] = _probability(p, f"{where}, {label}={cls}")
            else:
                _column_target(label, heads, where)
                probabilities[label] = _probability(value, f"{where}, {label}")
        slices = entry.get("slices") or {}
        if not isinstance(slices, dict):
            raise PredictionsRefused(f"{where}: 'slices' must be an object")
        rows.append(CaseRow(where, str(code), probabilities, _json_slices(slices, heads, where)))
    if not rows:
        raise PredictionsRefused(f"{source.name}: no cases")
    return model, rows


def _json_slices(slices: dict, heads: list[Head], where: str) -> dict[str, dict[str, float]]:
    out = {}
    for key, values in slices.items():
        if not isinstance(values, dict):
            raise PredictionsRefused(f"{where}, slice {key}: expected {{label: probability}}")
        for label in values:
            if _column_target(label, heads, f"{where}, slice {key}")[1] is not None:
                raise PredictionsRefused(f"{where}, slice {key}: {label!r} is a class")
        out[str(key)] = {
            label: _probability(p, f"{where}, slice {key}, {label}") for label, p in values.items()
        }
    return out


# --- checks against the study ----------------------------------------------------------------


def _check_multi_class(row: CaseRow, heads: list[Head]) -> None:
    for head in heads:
        given = row.probabilities.get(head.name)
        if head.kind != EndpointKind.MULTI_CLASS or given is None:
            continue
        missing = [c for c in head.labels if c not in given]
        if missing:
            raise PredictionsRefused(f"{row.where}: {head.name} lacks classes {missing}")
        total = sum(given.values())
        if abs(total - 1.0) > 0.01:  # a distribution, up to rounding in the file
            raise PredictionsRefused(
                f"{row.where}: {head.name} probabilities sum to {total:.4f}, not 1"
            )


def _cases(study: ReaderStudy, rows: list[CaseRow]) -> dict[str, Case]:
    cases = {c.code: c for c in Case.objects.filter(study_memberships__study=study)}
    seen: dict[str, str] = {}
    for row in rows:
        if row.code in seen:
            raise PredictionsRefused(
                f"{row.where}: case {row.code} is already given at {seen[row.code]}"
            )
        seen[row.code] = row.where
        case = cases.get(row.code)
        if case is None:
            raise PredictionsRefused(f"{row.where}: case {row.code!r} is not in the study")
        if case.primary_series_id is None:
            raise PredictionsRefused(f"{row.where}: case {row.code} has no primary series")
        if not row.probabilities:
            raise PredictionsRefused(f"{row.where}: no probabilities")
    return cases


def _slice_lists(row: CaseRow, uids: list[str]) -> tuple[list[str], dict[str, list[float]]]:
    """The row's slice probabilities as lists aligned with the series' ``uids``."""
    if not row.slices:
        return [], {}
    where = f"case {row.code} slices"
    if len(row.slices) != len(uids):
        raise PredictionsRefused(
            f"{where}: {len(row.slices)} slices given, the series has {len(uids)}"
        )
    index = {uid: i for i, uid in enumerate(uids)}
    ordered: list[dict | None] = [None] * len(uids)
    for key, values in row.slices.items():
        i = index.get(key)
        if i is None and key.isdigit() and int(key) < len(uids):
            i = int(key)
        if i is None:
            raise PredictionsRefused(f"{where}: slice {key!r} is not in the series")
        if ordered[i] is not None:
            raise PredictionsRefused(
                f"{where}: slice {key!r} is given twice (as a UID and an index)"
            )
        ordered[i] = values
    labels = sorted({label for values in ordered if values for label in values})
    for i, given in enumerate(ordered):
        if set(given or {}) != set(labels):
            raise PredictionsRefused(
                f"{where}: slice {uids[i]} lacks some of the slice labels {labels}"
            )
    return uids, {label: [v[label] for v in ordered if v is not None] for label in labels}


# --- the model version -----------------------------------------------------------------------


def _operating_points(model: dict, heads: list[Head], threshold: float) -> dict:
    points = model.get("operating_points") or {
        DEFAULT_OPERATING_POINT: {
            "threshold": threshold,
            "rule": f"probability >= {threshold} (no operating point supplied)",
        }
    }
    scored = [label for h in heads if h.kind != EndpointKind.MULTI_CLASS for label in h.scored]
    if not isinstance(points, dict):
        raise PredictionsRefused("model.operating_points must be an object")
    for name, point in points.items():
        if not isinstance(point, dict):
            raise PredictionsRefused(f"operating point {name!r}: expected an object")
        if "threshold" in point:
            _probability(point["threshold"], f"operating point {name!r} threshold")
        elif isinstance(point.get("thresholds"), dict):
            missing = [x for x in scored if x not in point["thresholds"]]
            if missing:
                raise PredictionsRefused(f"operating point {name!r}: no thresholds for {missing}")
            for label, t in point["thresholds"].items():
                _probability(t, f"operating point {name!r} threshold of {label}")
        else:
            raise PredictionsRefused(f"operating point {name!r}: give 'threshold' or 'thresholds'")
    return points


def decide(probabilities: dict, heads: list[Head], points: dict) -> dict[str, dict[str, int]]:
    """{operating point: {label: 0 or 1}}: threshold per label; a multi-class head one-hot."""
    out: dict[str, dict[str, int]] = {}
    for name, point in points.items():
        calls: dict[str, int] = {}
        for head in heads:
            given = probabilities.get(head.name) if head.kind == EndpointKind.MULTI_CLASS else None
            if isinstance(given, dict):
                best = max(given, key=given.__getitem__)
                calls.update({c: int(c == best) for c in head.labels})
                continue
            for label in head.scored:
                if label in probabilities:
                    t = point["threshold"] if "threshold" in point else point["thresholds"][label]
                    calls[label] = int(probabilities[label] >= float(t))
        out[name] = calls
    return out


def _manifest(
    *, name: str, version: str, heads: list[Head], study: ReaderStudy, points: dict,
    sources: list[SourceFile], user, model: dict, displays: dict[str, str],
) -> dict:  # fmt: skip
    model_id = slugify(name).replace("-", "_")[:100] or "external"
    positive = next(
        label for h in heads if h.kind != EndpointKind.MULTI_CLASS for label in h.scored
    )
    return {
        "schema_version": "2.0",
        "id": model_id,
        "version": version,
        "name": name,
        "description": str(model.get("description") or "predictions imported from a file"),
        "external": True,
        "provenance": {
            "source": "external predictions",
            "files": [{"name": s.name, "sha256": s.sha256} for s in sources],
            "imported_by": getattr(user, "username", None),
            "imported_at": timezone.now().isoformat(),
            "study": study.pk,
        },
        "labels": [
            {"name": label, "display": displays.get(label, label)}
            for h in heads
            for label in h.labels
        ],
        "heads": [
            {
                "name": h.name,
                "kind": h.kind,
                "labels": list(h.labels),
                **({"positive": h.positive} if h.positive else {}),
            }
            for h in heads
        ],
        "positive_label": positive,
        "operating_points": points,
        "default_operating_point": next(iter(points)),
        "explainers": {},
        "output": {"probabilities": True, "mask": False, "heatmaps": [], "grid": "none"},
        "weights": [],
    }


def _displays(study: ReaderStudy) -> dict[str, str]:
    return {
        v["value"]: v.get("label") or v["value"]
        for endpoint in study.endpoints.all()
        for v in endpoint.labels
    }


def _heads_with_probabilities(heads: list[Head], rows: list[CaseRow]) -> list[Head]:
    """The heads the file gives a probability for (a model predicts only some endpoints)."""
    given = {key for row in rows for key in row.probabilities}
    return [h for h in heads if h.name in given or any(x in given for x in h.scored)]


def import_predictions(
    study: ReaderStudy,
    *,
    model_name: str,
    model_version: str,
    predictions: SourceFile,
    slices: SourceFile | None = None,
    user=None,
    threshold: float = DEFAULT_THRESHOLD,
) -> ModelVersion:
    """Check the file(s) against the study and store them (all or nothing)."""
    heads = study_heads(study)
    if predictions.name.lower().endswith(".json"):
        model, rows = parse_json(predictions, heads)
    elif predictions.name.lower().endswith(".csv"):
        model, rows = {}, parse_csv(predictions, heads)
    else:
        raise PredictionsRefused(f"{predictions.name}: expected a .csv or .json file")
    if slices is not None:
        by_case = parse_slices_csv(slices, heads)
        known = {row.code: row for row in rows}
        for code, per_case in by_case.items():
            if code not in known:
                raise PredictionsRefused(f"{slices.name}: case {code!r} has no case-level row")
            known[code].slices = per_case
    name = (model_name or str(model.get("name") or "")).strip()
    version = (model_version or str(model.get("version") or "")).strip()
    if not name:
        raise PredictionsRefused("a model name is required")
    if not _VERSION.match(version):
        raise PredictionsRefused(f"model version {version!r}: letters, digits, . _ + - (1 to 40)")
    _probability(threshold, "threshold")
    for row in rows:
        _check_multi_class(row, heads)
    cases = _cases(study, rows)
    heads = _heads_with_probabilities(heads, rows)
    points = _operating_points(model, heads, threshold)
    sources = [predictions] + ([slices] if slices is not None else [])
    manifest = _manifest(
        name=name, version=version, heads=heads, study=study, points=points, sources=sources,
        user=user, model=model, displays=_displays(study),
    )  # fmt: skip
    series = {code: int(case.primary_series_id or 0) for code, case in cases.items()}
    placed = [(row, _slice_lists(row, slice_uids(series[row.code]))) for row in rows]
    digest = hashlib.sha256("".join(s.sha256 for s in sources).encode()).hexdigest()
    with transaction.atomic():
        if ModelVersion.objects.filter(model_id=manifest["id"], version=version).exists():
            raise PredictionsRefused(
                f"model {manifest['id']} {version} is already registered; import under a new version"
            )
        registered = ModelVersion.objects.create(
            model_id=manifest["id"],
            version=version,
            name=name,
            manifest=manifest,
            weights_sha256=digest,
            positive_label=manifest["positive_label"],
            operating_points={
                k: p["threshold"] if "threshold" in p else p["thresholds"]
                for k, p in points.items()
            },
            explainers=[],
            registered_by=user,
        )
        params = {"external": digest}
        now = timezone.now()
        for row, (uids, values) in placed:
            case = cases[row.code]
            job = InferenceJob.objects.create(
                case=case,
                series_id=series[row.code],
                model_version=registered,
                params=params,
                params_hash=params_hash(params),
                requested_by=user,
                status=InferenceJob.Status.SUCCEEDED,
                done=100,
                total=100,
                finished_at=now,
                versions={f"model:{registered.model_id}": version},
            )
            InferenceOutput.objects.create(
                job=job,
                probabilities=row.probabilities,
                decisions=decide(row.probabilities, heads, points),
                slice_uids=uids,
                slice_probabilities=values,
                provenance={"external": True, **manifest["provenance"], "row": row.where},
            )
    return registered
