"""Agreement: Cohen's kappa (unweighted / linear / quadratic), Fleiss' kappa, Dice."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats


def cohen_kappa(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    weights: str | None = None,
    categories: Iterable[Any] | None = None,
) -> float:
    """Cohen's kappa of two raters' labels on the same subjects.

    ``weights``: None (unweighted), ``"linear"`` or ``"quadratic"`` (ordinal categories, in the
    order of ``categories`` or sorted).
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("a and b must be 1-D arrays of equal length")
    cats = list(categories) if categories is not None else sorted(set(a) | set(b))
    k = len(cats)
    codes = pd.Categorical(np.r_[a, b], categories=cats).codes
    if (codes < 0).any():
        raise ValueError("labels outside 'categories'")
    table = np.bincount(codes[: a.size] * k + codes[a.size :], minlength=k * k).reshape(k, k)
    table = table / table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0))
    i, j = np.indices((k, k))
    if weights is None:
        w = (i != j).astype(float)
    elif weights == "linear":
        w = np.abs(i - j) / max(k - 1, 1)
    elif weights == "quadratic":
        w = ((i - j) / max(k - 1, 1)) ** 2
    else:
        raise ValueError("weights must be None, 'linear' or 'quadratic'")
    den = float((w * expected).sum())
    return float(1.0 - (w * table).sum() / den) if den > 0 else float("nan")


def fleiss_kappa(counts: npt.ArrayLike) -> float:
    """Fleiss' kappa from an (n_subjects, n_categories) table of rating counts (equal raters)."""
    counts = np.asarray(counts, dtype=float)
    n_raters = counts.sum(axis=1)
    if not np.allclose(n_raters, n_raters[0]) or n_raters[0] < 2:
        raise ValueError("every subject needs the same number (>= 2) of ratings")
    n = n_raters[0]
    p_i = (np.sum(counts**2, axis=1) - n) / (n * (n - 1))
    p_j = counts.sum(axis=0) / counts.sum()
    p_bar, p_e = p_i.mean(), np.sum(p_j**2)
    return float((p_bar - p_e) / (1 - p_e)) if p_e < 1 else float("nan")


def wide_table(
    sub: pd.DataFrame, unit: tuple[str, ...], column: str
) -> tuple[np.ndarray, pd.Index, pd.Index]:
    """``column`` as a units x readers matrix holding the units read by every reader only (as
    ``pivot(...).dropna()``; units in order of first appearance, readers sorted), with the
    units' labels and the readers. Reads are unique per unit and reader (validated)."""
    r_codes, readers = pd.factorize(sub["reader"], sort=True)
    u_codes: np.ndarray
    if len(unit) == 1:
        u_codes, uniques = pd.factorize(sub[unit[0]], sort=False)
        labels = pd.Index(uniques)
    else:
        u_codes = sub.groupby(list(unit), sort=False).ngroup().to_numpy()
        labels = pd.MultiIndex.from_frame(sub[list(unit)].drop_duplicates())
    n_units = len(labels)
    vals = sub[column].to_numpy()
    filled = np.zeros((n_units, len(readers)), dtype=bool)
    filled[u_codes, r_codes] = True
    mat = np.empty((n_units, len(readers)), dtype=vals.dtype)
    mat[u_codes, r_codes] = vals
    keep = np.flatnonzero(filled.all(axis=1))
    return mat[keep], labels[keep], pd.Index(readers)


def reader_agreement(
    reads: pd.DataFrame,
    condition: str,
    column: str = "decision",
    unit: tuple[str, ...] = ("case",),
) -> dict[str, Any]:
    """Fleiss' kappa, mean pairwise Cohen's kappa and percent agreement among the readers of one
    condition, on the units (cases; ``unit=("case", "slice")`` for slice answers) read by every
    reader. The labels may be 0/1 or class names."""
    sub = reads[reads["condition"] == condition]
    values, _, _ = wide_table(sub, unit, column)
    if values.shape[1] < 2 or values.shape[0] < 1:
        return {
            "n_readers": int(values.shape[1]),
            "n_cases": int(values.shape[0]),
            "fleiss_kappa": None,
            "mean_cohen_kappa": None,
            "percent_agreement": None,
        }
    cats = sorted(pd.unique(values.ravel()))
    counts = np.stack([(values == c).sum(axis=1) for c in cats], axis=1)
    # every reader pair at once: observed agreement = sum_c P(a says c and b says c)
    ind = [(values == c).astype(float) for c in cats]
    p_obs = sum(ic.T @ ic for ic in ind) / values.shape[0]  # (r, r)
    marg = np.array([ic.mean(axis=0) for ic in ind])  # (k, r)
    p_exp = np.einsum("ca,cb->ab", marg, marg)
    iu = np.triu_indices(values.shape[1], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = (p_obs - p_exp) / (1 - p_exp)
    cohen, agree = kappa[iu], p_obs[iu]
    return {
        "n_readers": int(values.shape[1]),
        "n_cases": int(values.shape[0]),
        "fleiss_kappa": fleiss_kappa(counts),
        "mean_cohen_kappa": float(np.nanmean(cohen)),
        "percent_agreement": float(np.mean(agree)),
    }


def dice(a: npt.ArrayLike, b: npt.ArrayLike, empty: float = 1.0) -> float:
    """Dice coefficient 2|A & B| / (|A| + |B|) of two binary masks; ``empty`` if both are empty."""
    a = np.asarray(a).astype(bool)
    b = np.asarray(b).astype(bool)
    if a.shape != b.shape:
        raise ValueError("masks must have the same shape")
    total = a.sum() + b.sum()
    return float(2.0 * np.logical_and(a, b).sum() / total) if total else float(empty)


def dice_summary(values: npt.ArrayLike, level: float = 0.95) -> dict[str, float]:
    """Mean +- sample SD and a t-based CI of the mean (seed 000: "0.84 +- 0.13 (95% CI ...)")."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = v.size
    mean = float(v.mean()) if n else float("nan")
    sd = float(v.std(ddof=1)) if n > 1 else float("nan")
    half = stats.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n) if n > 1 else float("nan")
    return {"n": n, "mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half}
