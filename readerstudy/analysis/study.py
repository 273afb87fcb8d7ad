"""Multi-endpoint and slice-level read and score tables (issue #18).

READS.csv may carry an ``endpoint`` column (one row per reader x case x condition x endpoint) and
a ``slice`` column (rows with a slice id are slice-level answers; an empty slice is the
case-level read). An endpoint is *binary* when every ``truth`` of it is 0 or 1 (its decisions
must then be 0/1 too), else *multi-class*: ``truth`` and ``decision`` are class names.

SCORES.csv (``case, truth, score``) may carry ``endpoint``, ``slice`` (slice-level scores; the
scan-level score of a case is the maximum over its slices, its truth the maximum of the slice
truths) and ``model`` (several models; Table 2 and the derived model reads use the first).

Without ``endpoint`` and ``slice`` columns a read table is validated by
:func:`readerstudy.analysis.reads.validate_reads` exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .reads import (
    MODEL_READER,
    READ_COLUMNS,
    SCORE_COLUMNS,
    ReadsValidationError,
    _clean_text,
    _conditions,
    _missing_columns,
    _numeric,
    _per_unique,
    _rows,
    _text,
    validate_reads,
)

BINARY = "binary"
MULTICLASS = "multiclass"
RESERVED_ENDPOINTS = ("weighted_log_loss",)  # keys of model_performance besides the endpoints
_MAX_LISTED = 5


@dataclass
class EndpointReads:
    """The validated reads of one endpoint.

    ``reads``: case-level reads in the form of :func:`validate_reads` (``reader, case,
    condition, truth, decision, rating, correct``; a binary endpoint has integer 0/1 ``truth``
    and ``decision``, a multi-class one class names). ``slices``: slice-level answers with a
    ``slice`` column, or None. ``labels``: the class names (binary: ``["0", "1"]``)."""

    name: str
    kind: str
    reads: pd.DataFrame
    slices: pd.DataFrame | None = None
    labels: list[str] = field(default_factory=list)


@dataclass
class StudyReads:
    """Every endpoint of a read table, in order of first appearance; ``by_endpoint`` is False
    for a table without an ``endpoint`` column (one endpoint named "")."""

    endpoints: dict[str, EndpointReads]
    by_endpoint: bool

    @property
    def names(self) -> list[str]:
        return list(self.endpoints)


@dataclass
class _Col:
    """A text column as codes into its distinct cleaned values (validation works on codes:
    read tables have millions of rows but few distinct ids and labels)."""

    codes: np.ndarray  # int64, one per row
    labels: np.ndarray  # object array of distinct values, in order of first appearance

    def values(self, mask: np.ndarray | None = None) -> np.ndarray:
        return np.asarray(self.labels[self.codes if mask is None else self.codes[mask]])

    def is_(self, value: str) -> np.ndarray:
        hit = np.flatnonzero(self.labels == value)
        return self.codes == hit[0] if len(hit) else np.zeros(len(self.codes), dtype=bool)

    def isin(self, values: Sequence[str]) -> np.ndarray:
        return np.asarray(np.isin(self.labels, list(values))[self.codes], dtype=bool)


def _factor(col: pd.Series, clean: Callable[[pd.Series], pd.Series]) -> _Col:
    codes, uniques = pd.factorize(col, use_na_sentinel=False)
    cleaned = clean(pd.Series(uniques, dtype=object)).astype(str)
    merged, labels = pd.factorize(cleaned)  # "1" and "1.0" are one value
    return _Col(np.asarray(merged, dtype=np.int64)[codes], np.asarray(labels, dtype=object))


def _const(value: str, n: int) -> _Col:
    return _Col(np.zeros(n, dtype=np.int64), np.array([value], dtype=object))


def _required(c: _Col, name: str, errors: list[str]) -> _Col:
    empty = c.is_("")
    if empty.any():
        errors.append(f"column '{name}' is empty in {_rows(empty)}")
    return c


def _rating(df: pd.DataFrame, errors: list[str]) -> pd.Series:
    if "rating" not in df.columns:
        return pd.Series(np.nan, index=df.index)
    rating = _numeric(df["rating"])
    given = _per_unique(df["rating"], lambda u: u.notna() & (u.astype(str).str.strip() != ""))
    not_numeric = rating.isna() & given.astype(bool)
    if not_numeric.any():
        errors.append(f"column 'rating' is not numeric in {_rows(not_numeric)}")
    out_of_range = rating.notna() & ((rating < 0) | (rating > 100))
    if out_of_range.any():
        errors.append(f"column 'rating' must lie in 0-100: {_rows(out_of_range)}")
    return rating


def _key(*cols: _Col) -> np.ndarray:
    """One int64 code per row for the combination of the given columns (re-coded after each
    column, so it never overflows)."""
    key = np.zeros(len(cols[0].codes), dtype=np.int64)
    for col in cols:
        key, uniques = pd.factorize(key * (len(col.labels) + 1) + col.codes)
        key = np.asarray(key, dtype=np.int64)
    return key


def _endpoint_kinds(t: dict[str, _Col], errors: list[str]) -> dict[str, str]:
    """binary when every truth of the endpoint is 0/1 (then decisions must be 0/1 too)."""
    is01_t = t["truth"].isin(["0", "1"])
    is01_d = t["decision"].isin(["0", "1"])
    ep = t["endpoint"]
    kinds: dict[str, str] = {}
    for k, name in enumerate(ep.labels):
        m = ep.codes == k
        kinds[str(name)] = BINARY if bool(is01_t[m].all()) else MULTICLASS
        if kinds[str(name)] == BINARY:
            bad = m & ~is01_d
            if bad.any():
                first = t["decision"].values(bad)[0]
                errors.append(
                    f"column 'decision' must be 0 or 1 for the binary endpoint {name!r} (its "
                    f"truth is 0/1): {_rows(bad)} (e.g. {first!r})"
                )
    return kinds


def _check_model_rows(t: dict[str, _Col], unit: np.ndarray, errors: list[str]) -> None:
    model = t["condition"].is_("model")
    if not model.any():
        return
    per_unit = pd.Series(unit[model]).value_counts()
    many = per_unit.index[per_unit > 1]
    if len(many):
        bad = model & np.isin(unit, many)
        errors.append(f"condition 'model' must have one read per case (and endpoint): {_rows(bad)}")
    ids = pd.unique(t["reader"].values(model))
    if len(ids) > 1:
        errors.append(
            f"condition 'model' rows must share one reader id: {_rows(model)} use "
            f"{sorted(ids)[:_MAX_LISTED]}"
        )
    if model.all():
        errors.append("no reader reads (every row is condition 'model'): nothing to analyse")


def _check_design(t: dict[str, _Col], errors: list[str]) -> None:
    """Truth consistency, duplicated reads and the model's rows."""
    unit = _key(t["endpoint"], t["case"], t["slice"])
    pair = unit * (len(t["truth"].labels) + 1) + t["truth"].codes
    first_pairs = np.unique(pair)
    units_of_pairs = first_pairs // (len(t["truth"].labels) + 1)
    u, counts = np.unique(units_of_pairs, return_counts=True)
    bad_units = u[counts > 1]
    if len(bad_units):
        mask = np.isin(unit, bad_units)
        cases = list(dict.fromkeys(t["case"].values(mask)))[:_MAX_LISTED]
        errors.append(
            f"reads: case(s) {', '.join(cases)} have different 'truth' across {_rows(mask)}"
            " (per endpoint and slice)"
        )
    key = _key(t["endpoint"], t["reader"], t["case"], t["slice"], t["condition"])
    dup = pd.Series(key).duplicated(keep=False).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        errors.append(
            "duplicate reads (same reader x case x condition x endpoint x slice) in "
            f"{_rows(dup)}, e.g. reader {t['reader'].values()[i]!r}, case "
            f"{t['case'].values()[i]!r}, condition {t['condition'].values()[i]!r}"
        )
    _check_model_rows(t, unit, errors)


def _validated_columns(df: pd.DataFrame, errors: list[str]) -> tuple[dict[str, _Col], pd.Series]:
    n = len(df)
    t: dict[str, _Col] = {
        "reader": _required(_factor(df["reader"], _clean_text), "reader", errors),
        "case": _required(_factor(df["case"], _clean_text), "case", errors),
        "condition": _factor(df["condition"], lambda u: _clean_text(u).str.lower()),
    }
    if t["condition"].is_("").any():
        _conditions(df["condition"], errors)  # the error message with its rows
    if "endpoint" in df.columns:
        t["endpoint"] = _required(_factor(df["endpoint"], _clean_text), "endpoint", errors)
        reserved = t["endpoint"].isin(RESERVED_ENDPOINTS)
        if reserved.any():
            errors.append(
                f"column 'endpoint' uses a reserved name {RESERVED_ENDPOINTS} in {_rows(reserved)}"
            )
    else:
        t["endpoint"] = _const("", n)
    t["slice"] = _factor(df["slice"], _clean_text) if "slice" in df.columns else _const("", n)
    t["truth"] = _required(_factor(df["truth"], _clean_text), "truth", errors)
    t["decision"] = _required(_factor(df["decision"], _clean_text), "decision", errors)
    return t, _rating(df, errors)


def _endpoint_frame(
    t: dict[str, _Col], rating: pd.Series, mask: np.ndarray, kind: str
) -> pd.DataFrame:
    cols = ("reader", "case", "condition", "truth", "decision", "slice")
    sub = pd.DataFrame({c: t[c].values(mask) for c in cols})
    if kind == BINARY:
        sub["truth"] = (sub["truth"] == "1").astype(int)
        sub["decision"] = (sub["decision"] == "1").astype(int)
    sub["rating"] = rating.to_numpy(dtype=float)[mask]
    sub["correct"] = (sub["decision"] == sub["truth"]).astype(int)
    order = ["reader", "case", "condition", "truth", "decision", "rating", "slice", "correct"]
    return sub[order]


def _labels_of(reads: pd.DataFrame, kind: str) -> list[str]:
    if kind == BINARY:
        return ["0", "1"]
    return sorted(set(reads["truth"]) | set(reads["decision"]))


def validate_study_reads(df: pd.DataFrame) -> StudyReads:
    """Validate a read table with optional ``endpoint`` / ``slice`` columns and split it by
    endpoint. Errors as :func:`validate_reads` (1-based data rows of the whole table)."""
    if "endpoint" not in df.columns and "slice" not in df.columns:
        reads = validate_reads(df)
        return StudyReads({"": EndpointReads("", BINARY, reads, None, ["0", "1"])}, False)
    _missing_columns(df, READ_COLUMNS, "reads")
    if len(df) == 0:
        raise ReadsValidationError(["the table has no rows"], "reads")
    df = df.reset_index(drop=True)
    errors: list[str] = []
    t, rating = _validated_columns(df, errors)
    if errors:
        raise ReadsValidationError(errors, "reads")
    kinds = _endpoint_kinds(t, errors)
    _check_design(t, errors)
    if errors:
        raise ReadsValidationError(errors, "reads")
    endpoints: dict[str, EndpointReads] = {}
    is_slice = ~t["slice"].is_("")
    for k, (ep, kind) in enumerate(kinds.items()):
        m = t["endpoint"].codes == k
        case_level = _endpoint_frame(t, rating, m & ~is_slice, kind).drop(columns="slice")
        slices = _endpoint_frame(t, rating, m & is_slice, kind) if (m & is_slice).any() else None
        if case_level.empty:
            raise ReadsValidationError(
                [f"endpoint {ep!r} has slice-level answers only; give its case-level reads"],
                "reads",
            )
        endpoints[ep] = EndpointReads(ep, kind, case_level, slices, _labels_of(case_level, kind))
    return StudyReads(endpoints, "endpoint" in df.columns)


# --- scores ----------------------------------------------------------------------------------
@dataclass
class EndpointScores:
    """The primary model's scores of one endpoint.

    ``cases``: ``case, truth, score`` at case level - the case rows of the table, or, for an
    endpoint scored per slice only, the scan-level maximum over slices (``case_source`` says
    which). ``slices``: ``case, slice, truth, score`` or None. ``scan``: the maximum over slices
    (None without slices)."""

    name: str
    cases: pd.DataFrame
    case_source: str  # "case" | "max_over_slices"
    slices: pd.DataFrame | None = None
    scan: pd.DataFrame | None = None


@dataclass
class StudyScores:
    endpoints: dict[str, EndpointScores]
    by_endpoint: bool
    calibration_frame: pd.DataFrame  # case-level rows of every model, for model_calibration
    models: list[str]


def _score_columns(df: pd.DataFrame, errors: list[str]) -> dict[str, pd.Series]:
    t: dict[str, pd.Series] = {"case": _text(df["case"], "case", errors)}
    t["endpoint"] = (
        _text(df["endpoint"], "endpoint", errors)
        if "endpoint" in df.columns
        else pd.Series("", index=df.index)
    )
    t["model"] = (
        _text(df["model"], "model", errors)
        if "model" in df.columns
        else pd.Series(MODEL_READER, index=df.index)
    )
    t["slice"] = (
        _per_unique(df["slice"], _clean_text).astype(str)
        if "slice" in df.columns
        else pd.Series("", index=df.index)
    )
    truth = _numeric(df["truth"])
    bad = truth.isna() | ~truth.isin([0, 1])
    if bad.any():
        errors.append(
            f"column 'truth' must be 0 or 1 in {_rows(bad)} (model scores are binary; score a "
            "multi-class endpoint one class at a time, e.g. endpoint 'location:deep')"
        )
    t["truth"] = truth.fillna(-1).astype(int)
    score = pd.to_numeric(df["score"], errors="coerce").astype(float)
    not_finite = ~np.isfinite(score.to_numpy())
    if not_finite.any():
        errors.append(f"column 'score' is missing or not a finite number in {_rows(not_finite)}")
    t["score"] = score
    return t


def _codes(*cols: pd.Series) -> np.ndarray:
    """One int64 key per row for the combination of the given columns."""
    key = np.zeros(len(cols[0]), dtype=np.int64)
    for col in cols:
        codes, uniques = pd.factorize(col, sort=False)
        key, _ = pd.factorize(key * (len(uniques) + 1) + codes)
    return np.asarray(key, dtype=np.int64)


def _check_scores(t: dict[str, pd.Series], errors: list[str]) -> None:
    key = _codes(t["endpoint"], t["model"], t["case"], t["slice"])
    dup = pd.Series(key).duplicated(keep=False).to_numpy()
    if dup.any():
        errors.append(
            f"duplicate case ids in {_rows(dup)} (one score per case, slice, endpoint and model)"
        )
    unit = _codes(t["endpoint"], t["case"], t["slice"])
    pairs = pd.DataFrame({"u": unit, "t": t["truth"].to_numpy()}).drop_duplicates()
    if pairs["u"].duplicated().any():
        bad = np.isin(unit, pairs["u"][pairs["u"].duplicated()].unique())
        errors.append(f"'truth' differs between models for the same case in {_rows(bad)}")
    reserved = t["endpoint"].isin(RESERVED_ENDPOINTS)
    if reserved.any():
        errors.append(
            f"column 'endpoint' uses a reserved name {RESERVED_ENDPOINTS} in {_rows(reserved)}"
        )


def _scan_level(slices: pd.DataFrame) -> pd.DataFrame:
    """Maximum score and maximum truth over each case's slices (seed 004's scan level)."""
    g = slices.groupby("case", sort=False)
    return pd.DataFrame({"truth": g["truth"].max(), "score": g["score"].max()}).reset_index()


def _endpoint_scores(name: str, frame: pd.DataFrame) -> EndpointScores:
    case_rows = frame[frame["slice"] == ""][["case", "truth", "score"]].reset_index(drop=True)
    slice_rows = frame[frame["slice"] != ""][["case", "slice", "truth", "score"]]
    slices = slice_rows.reset_index(drop=True) if len(slice_rows) else None
    scan = _scan_level(slices) if slices is not None else None
    if len(case_rows):
        return EndpointScores(name, case_rows, "case", slices, scan)
    assert scan is not None
    return EndpointScores(name, scan, "max_over_slices", slices, scan)


def validate_study_scores(
    df: pd.DataFrame, read_endpoints: Sequence[str] | None = None
) -> StudyScores:
    """Validate a score table with optional ``endpoint`` / ``slice`` / ``model`` columns.

    ``read_endpoints``: the endpoints of the read table; a score table without an ``endpoint``
    column belongs to the read table's single endpoint."""
    _missing_columns(df, SCORE_COLUMNS, "scores")
    if len(df) == 0:
        raise ReadsValidationError(["the table has no rows"], "scores")
    df = df.reset_index(drop=True)
    errors: list[str] = []
    t = _score_columns(df, errors)
    if errors:
        raise ReadsValidationError(errors, "scores")
    _check_scores(t, errors)
    eps = list(read_endpoints or [])
    by_endpoint = "endpoint" in df.columns
    if not by_endpoint and len(eps) > 1:
        errors.append(
            f"the score table needs an 'endpoint' column: the read table has endpoints "
            f"{', '.join(eps[:_MAX_LISTED])}"
        )
    if by_endpoint and eps == [""]:
        errors.append("the score table has an 'endpoint' column but the read table has none")
    if errors:
        raise ReadsValidationError(errors, "scores")
    if not by_endpoint and eps:
        t["endpoint"] = pd.Series(eps[0], index=df.index)
    frame = pd.DataFrame(t)
    models = [str(m) for m in pd.unique(frame["model"])]
    primary = frame[frame["model"] == models[0]]
    endpoints = {
        str(ep): _endpoint_scores(str(ep), sub)
        for ep, sub in primary.groupby("endpoint", sort=False)
    }
    with_endpoint = by_endpoint or eps != [""]
    calibration = _calibration_frame(frame, with_endpoint, "model" in df.columns)
    return StudyScores(endpoints, by_endpoint, calibration, models)


def _calibration_frame(frame: pd.DataFrame, with_endpoint: bool, with_model: bool) -> pd.DataFrame:
    """Case-level rows of every model (slice-only endpoints: the maximum over slices) for
    :func:`model_calibration_section`, with ``endpoint`` when the read table has endpoints and
    ``model`` when the score table names its models."""
    parts = []
    for (ep, model), sub in frame.groupby(["endpoint", "model"], sort=False):
        es = _endpoint_scores(str(ep), sub)
        parts.append(es.cases.assign(endpoint=str(ep), model=str(model)))
    out = pd.concat(parts, ignore_index=True)
    keep = ["case", "truth", "score"]
    keep += (["endpoint"] if with_endpoint else []) + (["model"] if with_model else [])
    return out[keep]
