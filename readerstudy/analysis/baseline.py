"""Baseline-characteristics table ("Table 1") by group, as seed 001 reports it: continuous
variables as mean ± SD with a t-test when normal in every group, else median [IQR] with a
Mann-Whitney U test; categorical variables as n (%) with Pearson's chi-square, or Fisher's exact
test for a 2 x 2 table with an expected count below 5. Every row names the test it used.

Normality: Shapiro-Wilk in each group at ``alpha`` (0.05); groups of fewer than 3 values count
as non-normal. More than two groups: one-way ANOVA / Kruskal-Wallis. Quartiles are numpy's
default (type 7). Missing values are left out and counted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

Distribution = Literal["auto", "normal", "nonnormal"]


def _clean(values: ArrayLike) -> tuple[NDArray[np.float64], int]:
    v = pd.to_numeric(pd.Series(np.asarray(values, dtype=object).ravel()), errors="coerce")
    arr = v.to_numpy(dtype=float)
    keep = np.isfinite(arr)
    return arr[keep], int((~keep).sum())


def _fmt(x: float, digits: int) -> str:
    return "NA" if not math.isfinite(x) else f"{x:.{digits}f}"


def describe_continuous(values: ArrayLike, digits: int = 1) -> dict[str, Any]:
    """``n, missing, mean, sd`` (ddof 1), ``median, q1, q3``, and the two displays
    ``mean_sd`` ("12.3 ± 4.5") and ``median_iqr`` ("12.0 [9.5, 15.0]")."""
    v, missing = _clean(values)
    mean = float(v.mean()) if v.size else math.nan
    sd = float(v.std(ddof=1)) if v.size > 1 else math.nan
    med, q1, q3 = (
        (float(q) for q in np.quantile(v, [0.5, 0.25, 0.75]))
        if v.size
        else (
            math.nan,
            math.nan,
            math.nan,
        )
    )
    return {
        "n": int(v.size),
        "missing": missing,
        "mean": mean,
        "sd": sd,
        "median": med,
        "q1": q1,
        "q3": q3,
        "mean_sd": f"{_fmt(mean, digits)} ± {_fmt(sd, digits)}",
        "median_iqr": f"{_fmt(med, digits)} [{_fmt(q1, digits)}, {_fmt(q3, digits)}]",
    }


def is_normal(values: ArrayLike, alpha: float = 0.05) -> bool:
    """Shapiro-Wilk p > ``alpha`` (False below 3 values or without variation)."""
    v, _ = _clean(values)
    if v.size < 3 or np.ptp(v) == 0:
        return False
    return bool(stats.shapiro(v).pvalue > alpha)


def _continuous_test(
    samples: list[NDArray[np.float64]], normal: bool, equal_var: bool
) -> tuple[str, float, float]:
    """(test name, statistic, p) of the two-group or k-group test."""
    if len(samples) == 2 and normal:
        t = stats.ttest_ind(samples[0], samples[1], equal_var=equal_var)
        name = "Student t-test" if equal_var else "Welch t-test"
        return name, float(t.statistic), float(t.pvalue)
    if len(samples) == 2:
        u = stats.mannwhitneyu(samples[0], samples[1], alternative="two-sided")
        return "Mann-Whitney U", float(u.statistic), float(u.pvalue)
    if normal:
        f = stats.f_oneway(*samples)
        return "one-way ANOVA", float(f.statistic), float(f.pvalue)
    h = stats.kruskal(*samples)
    return "Kruskal-Wallis", float(h.statistic), float(h.pvalue)


def compare_continuous(
    groups: Mapping[str, ArrayLike],
    distribution: Distribution = "auto",
    alpha: float = 0.05,
    equal_var: bool = True,
    digits: int = 1,
) -> dict[str, Any]:
    """Compare a continuous variable across ``groups`` ({label: values}).

    ``distribution``: ``auto`` (Shapiro-Wilk in every group), ``normal`` or ``nonnormal``.
    Normal: Student's t-test (``equal_var``, else Welch's), or one-way ANOVA for > 2 groups;
    otherwise Mann-Whitney U (two-sided, scipy's default method) or Kruskal-Wallis.
    Returns ``type, normal, test, statistic, p, summary`` (per group: ``describe_continuous``)
    and ``display`` (per group: mean ± SD or median [IQR], whichever the test calls for)."""
    if len(groups) < 2:
        raise ValueError("need at least two groups to compare")
    raw = {str(g): v for g, v in groups.items()}
    clean = {g: _clean(v)[0] for g, v in raw.items()}
    if any(v.size == 0 for v in clean.values()):
        raise ValueError("every group needs at least one value")
    if distribution == "auto":
        normal = all(is_normal(v, alpha) for v in clean.values())
    elif distribution in ("normal", "nonnormal"):
        normal = distribution == "normal"
    else:
        raise ValueError("distribution must be 'auto', 'normal' or 'nonnormal'")
    samples = list(clean.values())
    test, statistic, p = _continuous_test(samples, normal, equal_var)
    summary = {g: describe_continuous(v, digits) for g, v in raw.items()}
    key = "mean_sd" if normal else "median_iqr"
    return {
        "type": "continuous",
        "normal": normal,
        "test": test,
        "statistic": statistic,
        "p": p,
        "summary": summary,
        "display": {g: s[key] for g, s in summary.items()},
    }


def compare_categorical(
    table: pd.DataFrame | ArrayLike, digits: int = 1, min_expected: float = 5.0
) -> dict[str, Any]:
    """Compare a categorical variable from its contingency table (rows = levels, columns =
    groups). Pearson chi-square without continuity correction; Fisher's exact test (two-sided)
    when the table is 2 x 2 and an expected count is below ``min_expected``. Larger tables with
    small expected counts keep the chi-square test and say so in ``note``.

    Returns ``type, test, statistic`` (chi-square, or Fisher's odds ratio), ``df, p,
    min_expected, note, levels`` (per level: ``counts`` and ``percent`` of each group's
    total, ``display`` "n (x%)")."""
    frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(np.asarray(table))
    counts = frame.to_numpy(dtype=float)
    if counts.ndim != 2 or counts.shape[0] < 2 or counts.shape[1] < 2:
        raise ValueError("the contingency table needs at least 2 levels and 2 groups")
    if (counts.sum(axis=0) == 0).any() or (counts.sum(axis=1) == 0).any():
        raise ValueError("every level and every group needs at least one count")
    chi = stats.chi2_contingency(counts, correction=False)
    expected = np.asarray(chi.expected_freq)
    small = bool((expected < min_expected).any())
    note = ""
    if small and counts.shape == (2, 2):
        fisher = stats.fisher_exact(counts.astype(int))
        test, statistic, df, p = "Fisher exact", float(fisher.statistic), None, float(fisher.pvalue)
    else:
        test, statistic, df, p = (
            "Pearson chi-square",
            float(chi.statistic),
            int(chi.dof),
            float(chi.pvalue),
        )
        if small:
            note = (
                f"expected counts below {min_expected:g}; Fisher's exact test is used only for "
                "2 x 2 tables"
            )
    totals = counts.sum(axis=0)
    levels = []
    for i, level in enumerate(frame.index):
        cells = {str(g): int(counts[i, j]) for j, g in enumerate(frame.columns)}
        pct = {str(g): 100.0 * counts[i, j] / totals[j] for j, g in enumerate(frame.columns)}
        levels.append(
            {
                "level": str(level),
                "counts": cells,
                "percent": pct,
                "display": {g: f"{cells[g]} ({pct[g]:.{digits}f}%)" for g in cells},
            }
        )
    return {
        "type": "categorical",
        "test": test,
        "statistic": statistic,
        "df": df,
        "p": p,
        "min_expected": float(expected.min()),
        "note": note,
        "levels": levels,
    }


def _is_categorical(col: pd.Series, max_levels: int = 2) -> bool:
    num = pd.to_numeric(col, errors="coerce")
    if num.notna().sum() < col.notna().sum():
        return True  # some values are not numbers
    return bool(num.dropna().nunique() <= max_levels)


def baseline_table(
    frame: pd.DataFrame,
    group: str,
    variables: Sequence[str] | None = None,
    categorical: Sequence[str] = (),
    distribution: Mapping[str, Distribution] | None = None,
    alpha: float = 0.05,
    equal_var: bool = True,
    digits: int = 1,
) -> list[dict[str, Any]]:
    """One row per variable (default: every column but ``group``), groups in order of first
    appearance. Variables in ``categorical``, non-numeric ones and 0/1 ones are categorical;
    ``distribution`` overrides the normality check per variable. Each row: ``variable`` plus
    the output of ``compare_continuous`` or ``compare_categorical`` and ``missing`` per group."""
    if group not in frame.columns:
        raise ValueError(f"no column {group!r}")
    labels = frame[group]
    keep = labels.notna()
    data, labels = frame[keep], labels[keep].astype(str)
    order = list(dict.fromkeys(labels))
    if len(order) < 2:
        raise ValueError(f"column {group!r} needs at least two groups")
    names = [c for c in (variables or frame.columns) if c != group]
    missing_cols = [c for c in names if c not in frame.columns]
    if missing_cols:
        raise ValueError(f"no column(s) {', '.join(map(str, missing_cols))}")
    rows = []
    for name in names:
        col = data[name]
        missing = {g: int(col[labels == g].isna().sum()) for g in order}
        if name in categorical or _is_categorical(col):
            present = col.notna()
            tab = pd.crosstab(col[present].astype(str), labels[present]).reindex(
                columns=order, fill_value=0
            )
            row = compare_categorical(tab, digits)
        else:
            dist = (distribution or {}).get(name, "auto")
            row = compare_continuous(
                {g: col[labels == g].to_numpy() for g in order}, dist, alpha, equal_var, digits
            )
        rows.append({"variable": name, **row, "missing": missing})
    return rows


def baseline_frame(rows: Sequence[Mapping[str, Any]], p_digits: int = 3) -> pd.DataFrame:
    """The rows of ``baseline_table`` as a display table: ``variable, level``, one column per
    group, ``test, p`` (categorical variables take one line per level)."""
    records: list[dict[str, Any]] = []
    for row in rows:
        p = row["p"]
        p_text = (
            "NA"
            if not math.isfinite(p)
            else (f"<{10**-p_digits:.{p_digits}f}" if p < 10**-p_digits else f"{p:.{p_digits}f}")
        )
        if row["type"] == "continuous":
            records.append(
                {
                    "variable": row["variable"],
                    "level": "",
                    **row["display"],
                    "test": row["test"],
                    "p": p_text,
                }
            )
            continue
        for i, lv in enumerate(row["levels"]):
            first = i == 0
            records.append(
                {
                    "variable": row["variable"] if first else "",
                    "level": lv["level"],
                    **lv["display"],
                    "test": row["test"] if first else "",
                    "p": p_text if first else "",
                }
            )
    return pd.DataFrame(records)
