"""Intraclass correlation of repeated feature measurements (seed 001: radiomics features of
30 cases segmented twice by reader A and once by reader B; ICC > 0.80 = strong agreement).

Two-way ANOVA on the n cases x k measurement columns (one column per rater x session):
ICC(2,1) (two-way random, absolute agreement, McGraw & Wong's ICC(A,1)) and ICC(3,1)
(two-way mixed, consistency, ICC(C,1)) of Shrout & Fleiss (1979), with their F-based
confidence intervals (McGraw & Wong 1996, Table 7; the same intervals as R ``psych::ICC`` and
pingouin). ``ci_low``/``ci_high`` are ICC(2,1)'s; ICC(3,1)'s are ``icc3_1_ci_low/_high``.

Input (FEATURES.csv), long format: ``case, rater, session, feature, value`` (``session``
optional; one value per case x rater x session x feature; every case needs every rater x session
of its feature).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from .reads import ReadsValidationError, _rows, _text

FEATURE_COLUMNS = ("case", "rater", "feature", "value")
DEFAULT_THRESHOLD = 0.8
_MAX_LISTED = 5


def icc_two_way(ratings: ArrayLike, level: float = 0.95) -> dict[str, Any]:
    """ICC(2,1) and ICC(3,1) of an n x k matrix (rows = cases, columns = raters/sessions).

    Returns ``icc2_1, icc3_1, ci_low, ci_high`` (ICC(2,1)'s interval), ``icc2_1_ci_low,
    icc2_1_ci_high, icc3_1_ci_low, icc3_1_ci_high, F, df1, df2, p`` (the F test of no case
    effect, MS(cases)/MS(error), shared by both ICCs), ``ms_cases, ms_raters, ms_error,
    n_cases, n_raters, level``. Undefined values (no variation at all) are NaN."""
    x = np.asarray(ratings, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise ValueError("ICC needs at least 2 cases and 2 raters (an n x k matrix)")
    if not np.isfinite(x).all():
        raise ValueError("ICC needs a complete matrix of finite values")
    if not 0 < level < 1:
        raise ValueError("level must lie between 0 and 1")
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * float(np.sum((x.mean(axis=1) - grand) ** 2))
    ss_cols = n * float(np.sum((x.mean(axis=0) - grand) ** 2))
    ss_err = float(np.sum((x - grand) ** 2)) - ss_rows - ss_cols
    df1, df2 = n - 1, (n - 1) * (k - 1)
    msr, msc, mse = ss_rows / df1, ss_cols / (k - 1), max(ss_err, 0.0) / df2
    with np.errstate(divide="ignore", invalid="ignore"):
        icc3 = _ratio(msr - mse, msr + (k - 1) * mse)
        icc2 = _ratio(msr - mse, msr + (k - 1) * mse + k * (msc - mse) / n)
        f = _ratio(msr, mse) if mse > 0 else (math.inf if msr > 0 else math.nan)
    alpha = 1 - level
    out: dict[str, Any] = {
        "icc2_1": icc2,
        "icc3_1": icc3,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "ci_for": "icc2_1",
        "icc2_1_ci_low": math.nan,
        "icc2_1_ci_high": math.nan,
        "icc3_1_ci_low": math.nan,
        "icc3_1_ci_high": math.nan,
        "F": f,
        "df1": df1,
        "df2": df2,
        "p": float(stats.f.sf(f, df1, df2)) if not math.isnan(f) else math.nan,
        "ms_cases": msr,
        "ms_raters": msc,
        "ms_error": mse,
        "n_cases": n,
        "n_raters": k,
        "level": level,
    }
    if math.isfinite(f):
        # ICC(3,1) = ICC(C,1): exact F interval
        fl = f / float(stats.f.ppf(1 - alpha / 2, df1, df2))
        fu = f * float(stats.f.ppf(1 - alpha / 2, df2, df1))
        out["icc3_1_ci_low"] = (fl - 1) / (fl + k - 1)
        out["icc3_1_ci_high"] = (fu - 1) / (fu + k - 1)
    if math.isfinite(icc2) and icc2 < 1:
        lo, hi = _icc2_ci(icc2, msr, msc, mse, n, k, alpha)
        out["icc2_1_ci_low"], out["icc2_1_ci_high"] = lo, hi
    out["ci_low"], out["ci_high"] = out["icc2_1_ci_low"], out["icc2_1_ci_high"]
    return out


def _ratio(num: float, den: float) -> float:
    return num / den if den != 0 else math.nan


def _icc2_ci(
    icc: float, msr: float, msc: float, mse: float, n: int, k: int, alpha: float
) -> tuple[float, float]:
    """McGraw & Wong (1996) interval for ICC(A,1), with Satterthwaite's df for the
    denominator mean square (Fleiss & Shrout 1978)."""
    a = k * icc / (n * (1 - icc))
    b = 1 + k * icc * (n - 1) / (n * (1 - icc))
    num = (a * msc + b * mse) ** 2
    den = (a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1))
    if den == 0:
        return math.nan, math.nan
    v = num / den
    f_star = float(stats.f.ppf(1 - alpha / 2, n - 1, v))
    f_star_inv = float(stats.f.ppf(1 - alpha / 2, v, n - 1))
    c = k * msc + (k * n - k - n) * mse
    lo = n * (msr - f_star * mse) / (f_star * c + n * msr)
    hi = n * (f_star_inv * msr - mse) / (c + n * f_star_inv * msr)
    return lo, hi


# --- long-format input ------------------------------------------------------------------------
def validate_features(df: pd.DataFrame) -> pd.DataFrame:
    """Check a long-format feature table and return ``case, rater, session, feature, value``
    (ids as text, ``value`` float). Raises ``ReadsValidationError`` (source ``features``) listing
    missing columns, empty ids, non-numeric values, duplicated case x rater x session x
    feature rows, and cases that lack a rater x session of their feature."""
    missing = [c for c in FEATURE_COLUMNS if c not in df.columns]
    if missing:
        raise ReadsValidationError(
            [f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns))}"],
            "features",
        )
    if len(df) == 0:
        raise ReadsValidationError(["the table has no rows"], "features")
    df = df.reset_index(drop=True)
    errors: list[str] = []
    ids = {c: _text(df[c], c, errors) for c in ("case", "rater", "feature")}
    session = (
        _text(df["session"], "session", errors)
        if "session" in df.columns
        else pd.Series("1", index=df.index)
    )
    value = pd.to_numeric(df["value"], errors="coerce").astype(float)
    bad = ~np.isfinite(value.to_numpy())
    if bad.any():
        first = df["value"][bad].iloc[0]
        errors.append(
            f"column 'value' is missing or not a finite number in {_rows(bad)} (e.g. {first!r})"
        )
    if errors:
        raise ReadsValidationError(errors, "features")
    out = pd.DataFrame({**ids, "session": session, "value": value})
    out = out[["case", "rater", "session", "feature", "value"]]
    dup = out.duplicated(["case", "rater", "session", "feature"], keep=False)
    if dup.any():
        row = out[dup].iloc[0]
        errors.append(
            f"duplicate measurements (same case x rater x session x feature) in {_rows(dup)}, "
            f"e.g. case {row['case']!r}, rater {row['rater']!r}, session {row['session']!r}, "
            f"feature {row['feature']!r}"
        )
    else:
        errors.extend(_incomplete(out))
    if errors:
        raise ReadsValidationError(errors, "features")
    return out


def _labels(columns: pd.Index) -> list[str]:
    """``rater/session`` labels of the (rater, session) columns of a pivoted table."""
    return ["/".join(str(part) for part in col) for col in columns.to_list()]


def _incomplete(frame: pd.DataFrame) -> list[str]:
    """A message per feature whose cases lack some rater x session."""
    errors = []
    for feature, sub in frame.groupby("feature", sort=False):
        wide = sub.pivot(index="case", columns=["rater", "session"], values="value")
        lacking = wide.isna()
        if lacking.to_numpy().any():
            cases = [str(c) for c in wide.index[lacking.any(axis=1)]]
            cols = _labels(wide.columns[lacking.any(axis=0)])
            more = f" and {len(cases) - _MAX_LISTED} more" if len(cases) > _MAX_LISTED else ""
            errors.append(
                f"feature {feature!r}: case(s) {', '.join(cases[:_MAX_LISTED])}{more} lack a "
                f"value for rater/session {', '.join(cols[:_MAX_LISTED])} (every case needs "
                "every rater x session)"
            )
    return errors


def icc_by_feature(
    features: pd.DataFrame,
    level: float = 0.95,
    raters: Sequence[str] | None = None,
    sessions: Sequence[str] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> dict[str, Any]:
    """ICC per feature. ``raters``/``sessions`` keep only those (e.g. one rater's two sessions
    for intra-rater ICC, session 1 of two raters for inter-rater ICC); each remaining
    rater x session is one column of the two-way table.

    Returns ``{"icc": {feature: icc_two_way(...) + above_threshold, columns}, "summary": {...},
    "skipped": {feature: reason}}``; ``above_threshold`` compares ICC(2,1) with ``threshold``."""
    data = validate_features(features)
    if raters is not None:
        data = data[data["rater"].isin([str(r) for r in raters])]
    if sessions is not None:
        data = data[data["session"].isin([str(s) for s in sessions])]
    if data.empty:
        raise ValueError("no measurements left after selecting raters/sessions")
    result: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for feature, sub in data.groupby("feature", sort=False):
        wide = sub.pivot(index="case", columns=["rater", "session"], values="value")
        if wide.shape[0] < 2 or wide.shape[1] < 2:
            skipped[str(feature)] = (
                f"needs at least 2 cases and 2 rater x session columns (has {wide.shape[0]} "
                f"x {wide.shape[1]})"
            )
            continue
        res = icc_two_way(wide.to_numpy(), level)
        res["columns"] = _labels(wide.columns)
        icc2 = res["icc2_1"]
        res["above_threshold"] = bool(icc2 > threshold) if math.isfinite(icc2) else None
        if not math.isfinite(icc2):
            skipped[str(feature)] = "no variation between cases or raters (ICC undefined)"
        result[str(feature)] = res
    above = [f for f, r in result.items() if r["above_threshold"]]
    summary = {
        "n_features": len(result),
        "threshold": threshold,
        "threshold_icc": "icc2_1",
        "n_above_threshold": len(above),
        "features_above_threshold": above,
        "n_cases": int(data["case"].nunique()),
        "raters": sorted(data["rater"].unique().tolist()),
        "sessions": sorted(data["session"].unique().tolist()),
        "level": level,
    }
    return {"icc": result, "summary": summary, "skipped": skipped}


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    return obj


ICC_CSV_COLUMNS = (
    "icc2_1",
    "icc2_1_ci_low",
    "icc2_1_ci_high",
    "icc3_1",
    "icc3_1_ci_low",
    "icc3_1_ci_high",
    "F",
    "df1",
    "df2",
    "p",
    "n_cases",
    "n_raters",
    "above_threshold",
)


def write_icc_report(result: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """``report.json`` (``{"icc": ..., "summary": ..., "skipped": ...}``) and ``icc.csv``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    doc = _jsonable(result)
    path = out / "report.json"
    path.write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n")
    rows = [{"feature": f, **{c: r[c] for c in ICC_CSV_COLUMNS}} for f, r in result["icc"].items()]
    csv = out / "icc.csv"
    pd.DataFrame(rows, columns=["feature", *ICC_CSV_COLUMNS]).to_csv(csv, index=False)
    return [path, csv]


# --- command line (``python -m readerstudy.analysis icc``) ------------------------------------
def add_icc_parser(sub: Any) -> argparse.ArgumentParser:
    """Register the ``icc`` subcommand on an ``add_subparsers()`` object."""
    p: argparse.ArgumentParser = sub.add_parser(
        "icc", help="intraclass correlation (ICC(2,1), ICC(3,1)) per feature"
    )
    p.add_argument(
        "--features",
        required=True,
        type=Path,
        help="long-format CSV: case, rater, session, feature, value",
    )
    p.add_argument("--out", required=True, type=Path, help="output directory")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--raters", default="", help="comma-separated raters to keep (default all)")
    p.add_argument("--sessions", default="", help="comma-separated sessions to keep (default all)")
    p.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help="ICC(2,1) above which a feature counts as reliable (default 0.8)",
    )
    p.add_argument("--quiet", action="store_true")
    return p


def _csv_list(text: str) -> list[str] | None:
    items = [t.strip() for t in text.split(",") if t.strip()]
    return items or None


def run_icc(args: argparse.Namespace) -> int:
    """Run the ``icc`` subcommand; raises ``ReadsValidationError``/``ValueError`` on bad input
    (the CLI turns them into exit status 2)."""
    from .reads import read_csv

    result = icc_by_feature(
        read_csv(args.features),
        level=args.level,
        raters=_csv_list(args.raters),
        sessions=_csv_list(args.sessions),
        threshold=args.threshold,
    )
    paths = write_icc_report(result, args.out)
    if not args.quiet:
        s = result["summary"]
        print(
            f"ICC for {s['n_features']} feature(s) on {s['n_cases']} cases: "
            f"{s['n_above_threshold']} with ICC(2,1) > {s['threshold']}; wrote "
            + ", ".join(str(p) for p in paths)
        )
        for feature, why in result["skipped"].items():
            print(f"not computed: icc.{feature}: {why}")
    return 0
