"""Input validation for long-format read tables and model score tables.

A read table has one row per read: ``reader, case, condition, truth, decision`` and an
optional ``rating`` (0-100, higher = more likely positive). ``condition`` is any name (compared
case-insensitively); ``unaided`` is the default reference and ``model`` is reserved for the
model's own calls (a pseudo-reader). Errors name the offending rows (1-based data rows, i.e.
the first row under the CSV header is row 1) and columns. Tables with an ``endpoint`` or
``slice`` column are validated by :mod:`readerstudy.analysis.study`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

CONDITIONS = ("unaided", "aided", "model")
READ_COLUMNS = ("reader", "case", "condition", "truth", "decision")
OPTIONAL_READ_COLUMNS = ("rating",)
SCORE_COLUMNS = ("case", "truth", "score")
STUDY_COLUMNS = ("endpoint", "slice")  # multi-endpoint / slice-level tables (study.py)
MODEL_READER = "model"
_MAX_LISTED = 5


class ReadsValidationError(ValueError):
    """Raised when a read or score table is malformed; ``errors`` lists every problem found."""

    def __init__(self, errors: list[str], source: str = "reads"):
        self.errors = list(errors)
        self.source = source
        super().__init__(f"invalid {source} table:\n- " + "\n- ".join(self.errors))


def _rows(mask: np.ndarray | pd.Series) -> str:
    idx = np.flatnonzero(np.asarray(mask)) + 1
    listed = ", ".join(str(i) for i in idx[:_MAX_LISTED])
    more = f" and {len(idx) - _MAX_LISTED} more" if len(idx) > _MAX_LISTED else ""
    return f"row{'s' if len(idx) > 1 else ''} {listed}{more}"


def _per_unique(col: pd.Series, func: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply a vectorised Series -> Series function to the distinct values only (read tables
    have few distinct ids/labels but many rows)."""
    codes, uniques = pd.factorize(col, use_na_sentinel=False)
    mapped = func(pd.Series(uniques, dtype=object))
    return pd.Series(mapped.to_numpy()[codes], index=col.index)


def _numeric(col: pd.Series) -> pd.Series:
    return _per_unique(col, lambda u: pd.to_numeric(u, errors="coerce")).astype(float)


def _binary(col: pd.Series, name: str, errors: list[str]) -> pd.Series:
    num = _numeric(col)
    bad = num.isna() | ~num.isin([0, 1])
    if bad.any():
        first = col[bad].iloc[0]
        errors.append(f"column '{name}' must be 0 or 1: {_rows(bad)} (e.g. {first!r})")
    return num.fillna(-1).astype(int)


def _clean_text(u: pd.Series) -> pd.Series:
    out = u.astype(str).str.strip()
    # "1.0" -> "1" so that ids written by spreadsheets match ids written as integers
    out = out.str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)
    return out.where(~(u.isna() | (out == "") | (out.str.lower() == "nan")), "")


def _text(col: pd.Series, name: str, errors: list[str]) -> pd.Series:
    out = _per_unique(col, _clean_text).astype(str)
    missing = out == ""
    if missing.any():
        errors.append(f"column '{name}' is empty in {_rows(missing)}")
    return out


def _conditions(col: pd.Series, errors: list[str]) -> pd.Series:
    """Condition names, stripped and lower-cased; an empty one is an error (returned as "")."""
    out = _per_unique(col, lambda u: _clean_text(u).str.lower()).astype(str)
    missing = out == ""
    if missing.any():
        errors.append(
            f"column 'condition' is empty in {_rows(missing)}; give a condition name "
            f"(e.g. {', '.join(CONDITIONS)})"
        )
    return out


def _missing_columns(df: pd.DataFrame, required: Iterable[str], source: str) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ReadsValidationError(
            [f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns))}"],
            source,
        )


def _check_truth_consistency(
    case: pd.Series, truth: pd.Series, errors: list[str], what: str
) -> None:
    per_case = pd.DataFrame({"case": case, "truth": truth}).groupby("case")["truth"].nunique()
    bad_cases = per_case.index[per_case > 1]
    if len(bad_cases):
        mask = case.isin(bad_cases)
        shown = ", ".join(map(str, bad_cases[:_MAX_LISTED]))
        errors.append(f"{what}: case(s) {shown} have different 'truth' across {_rows(mask)}")


def validate_reads(df: pd.DataFrame) -> pd.DataFrame:
    """Validate a read table and return a clean copy.

    The returned frame has string ``reader``/``case``, lower-cased ``condition``, integer
    ``truth``/``decision``, float ``rating`` (NaN where absent) and ``correct`` = decision == truth.
    A table with an ``endpoint`` or ``slice`` column goes to
    :func:`readerstudy.analysis.study.validate_study_reads` instead.
    """
    _missing_columns(df, READ_COLUMNS, "reads")
    extra = [c for c in STUDY_COLUMNS if c in df.columns]
    if extra:
        raise ReadsValidationError(
            [
                f"the table has column(s) {', '.join(extra)}: validate it with "
                "readerstudy.analysis.study.validate_study_reads (build_report does)"
            ],
            "reads",
        )
    if len(df) == 0:
        raise ReadsValidationError(["the table has no rows"], "reads")
    df = df.reset_index(drop=True)
    errors: list[str] = []
    reader = _text(df["reader"], "reader", errors)
    case = _text(df["case"], "case", errors)
    ids_ok = not errors
    condition = _conditions(df["condition"], errors)
    unknown = condition == ""
    n_before = len(errors)
    truth = _binary(df["truth"], "truth", errors)
    truth_ok = len(errors) == n_before
    decision = _binary(df["decision"], "decision", errors)
    if "rating" in df.columns:
        rating = _numeric(df["rating"])
        not_numeric = rating.isna() & _per_unique(
            df["rating"], lambda u: u.notna() & (u.astype(str).str.strip() != "")
        ).astype(bool)
        if not_numeric.any():
            errors.append(f"column 'rating' is not numeric in {_rows(not_numeric)}")
        out_of_range = rating.notna() & ((rating < 0) | (rating > 100))
        if out_of_range.any():
            errors.append(f"column 'rating' must lie in 0-100: {_rows(out_of_range)}")
    else:
        rating = pd.Series(np.nan, index=df.index)
    if ids_ok and truth_ok:
        _check_truth_consistency(case, truth, errors, "reads")
    if ids_ok and not unknown.any():
        key = pd.DataFrame({"reader": reader, "case": case, "condition": condition})
        dup = key.duplicated(keep=False)
        if dup.any():
            first = key[dup].iloc[0]
            errors.append(
                "duplicate reads (same reader x case x condition) in "
                f"{_rows(dup)}, e.g. reader {first['reader']!r}, case {first['case']!r}, "
                f"condition {first['condition']!r}"
            )
        model = condition == "model"
        if model.any():
            per_case = case[model].value_counts()
            if (per_case > 1).any():
                bad = model & case.isin(per_case.index[per_case > 1])
                errors.append(f"condition 'model' must have one read per case: {_rows(bad)}")
            if reader[model].nunique() > 1:
                errors.append(
                    f"condition 'model' rows must share one reader id: {_rows(model)} use "
                    f"{sorted(reader[model].unique())[:_MAX_LISTED]}"
                )
        if (condition == "model").all():
            errors.append("no reader reads (every row is condition 'model'): nothing to analyse")
    if errors:
        raise ReadsValidationError(errors, "reads")
    out = pd.DataFrame(
        {
            "reader": reader,
            "case": case,
            "condition": condition,
            "truth": truth,
            "decision": decision,
            "rating": rating.astype(float),
        }
    )
    out["correct"] = (out["decision"] == out["truth"]).astype(int)
    return out


def ensure_valid(df: pd.DataFrame) -> pd.DataFrame:
    """Validate a raw read table; frames from :func:`validate_reads` (they carry ``correct``)
    pass through unchanged."""
    return df if "correct" in df.columns else validate_reads(df)


def validate_scores(df: pd.DataFrame) -> pd.DataFrame:
    """Validate a model score table (``case, truth, score``; one row per case)."""
    _missing_columns(df, SCORE_COLUMNS, "scores")
    if len(df) == 0:
        raise ReadsValidationError(["the table has no rows"], "scores")
    df = df.reset_index(drop=True)
    errors: list[str] = []
    case = _text(df["case"], "case", errors)
    truth = _binary(df["truth"], "truth", errors)
    score = pd.to_numeric(df["score"], errors="coerce")
    bad = score.isna() | ~np.isfinite(score.fillna(0.0))
    if bad.any():
        errors.append(f"column 'score' is missing or not a finite number in {_rows(bad)}")
    dup = case.duplicated(keep=False)
    if dup.any():
        errors.append(f"duplicate case ids in {_rows(dup)} (one score per case expected)")
    if not errors and truth.nunique() < 2:
        errors.append("'truth' must contain both 0 and 1 to compute a ROC curve")
    if errors:
        raise ReadsValidationError(errors, "scores")
    return pd.DataFrame({"case": case, "truth": truth, "score": score.astype(float)})


def check_scores_match_reads(reads: pd.DataFrame, scores: pd.DataFrame) -> None:
    """Case truth must agree between the read and the score table."""
    truth_r = reads.drop_duplicates("case").set_index("case")["truth"]
    truth_s = scores.set_index("case")["truth"]
    common = truth_r.index.intersection(truth_s.index)
    differ = common[truth_r[common].to_numpy() != truth_s[common].to_numpy()]
    if len(differ):
        raise ReadsValidationError(
            [
                f"case(s) {', '.join(map(str, differ[:_MAX_LISTED]))} have different 'truth' "
                "in the read table and the score table"
            ],
            "scores",
        )


def model_reads_from_scores(scores: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Model pseudo-reader rows: decision = score >= threshold, condition ``model``."""
    decision = (scores["score"].to_numpy() >= threshold).astype(int)
    out = pd.DataFrame(
        {
            "reader": MODEL_READER,
            "case": scores["case"].to_numpy(),
            "condition": "model",
            "truth": scores["truth"].to_numpy(),
            "decision": decision,
            "rating": np.nan,
        }
    )
    out["correct"] = (out["decision"] == out["truth"]).astype(int)
    return out


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a CSV with every column as text (validation does the typing)."""
    return pd.read_csv(path, dtype=str, keep_default_na=True, skipinitialspace=True)


def natural_sorted(values: Iterable[Any]) -> list[Any]:
    """Sort ids numerically when they all look like numbers, else as text."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    vals = list(series.unique())
    try:
        return sorted(vals, key=lambda v: float(v))
    except (TypeError, ValueError):
        return sorted(vals, key=str)
