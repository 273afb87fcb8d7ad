"""Metrics used by training and the tests: AUC, Dice, the seed's operating-point rules."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


def roc_auc(y_true: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """AUC as the Mann-Whitney probability P(score_pos > score_neg) (+0.5 per tie)."""
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(scores, dtype=float)
    pos, neg = s[y], s[~y]
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError("AUC needs both classes")
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size)


def bootstrap_auc_ci(
    y_true: npt.ArrayLike,
    scores: npt.ArrayLike,
    n: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap CI of the AUC (the seed's 1000 resamples)."""
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(scores, dtype=float)
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n):
        idx = rng.integers(0, len(y), len(y))
        if y[idx].all() or not y[idx].any():
            continue
        vals.append(roc_auc(y[idx], s[idx]))
    lo, hi = np.percentile(vals, [(1 - level) / 2 * 100, (1 + level) / 2 * 100])
    return float(lo), float(hi)


def dice(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    fa = np.asarray(a) > 0
    fb = np.asarray(b) > 0
    denom = fa.sum() + fb.sum()
    return 1.0 if denom == 0 else float(2.0 * np.logical_and(fa, fb).sum() / denom)


def confusion(y_true: npt.ArrayLike, scores: npt.ArrayLike, threshold: float) -> dict[str, Any]:
    """Counts and rates with ``score >= threshold`` called positive."""
    y = np.asarray(y_true).astype(bool)
    pred = np.asarray(scores, dtype=float) >= threshold
    tp, fn = int((pred & y).sum()), int((~pred & y).sum())
    fp, tn = int((pred & ~y).sum()), int((~pred & ~y).sum())
    return {
        "tp": tp,
        "fn": fn,
        "fp": fp,
        "tn": tn,
        "sensitivity": tp / (tp + fn) if tp + fn else float("nan"),
        "specificity": tn / (tn + fp) if tn + fp else float("nan"),
    }


def _candidates(scores: np.ndarray) -> np.ndarray:
    """Thresholds midway between adjacent distinct scores, plus one above/below all."""
    u = np.unique(scores)
    mids = (u[1:] + u[:-1]) / 2.0
    return np.concatenate([[max(0.0, u[0] - 1e-6)], mids, [min(1.0, u[-1] + 1e-6)]])


def operating_points(
    y_true: npt.ArrayLike, scores: npt.ArrayLike, floor: float = 0.8
) -> dict[str, dict[str, Any] | None]:
    """The seed's rules, applied on one set (seeds-digest section 1.3):

    * high_sensitivity: the highest sensitivity with specificity >= ``floor``;
    * high_specificity: the highest specificity with sensitivity >= ``floor``.

    Ties are broken towards the other metric. Thresholds are placed midway between adjacent
    scores so that the call does not hinge on a score equal to the threshold.
    """
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(scores, dtype=float)
    rows = [(t, confusion(y, s, t)) for t in _candidates(s)]

    def pick(primary: str, secondary: str, constraint: str) -> dict[str, Any] | None:
        feasible = [(t, c) for t, c in rows if c[constraint] >= floor - 1e-12]
        if not feasible:
            return None
        t, c = max(feasible, key=lambda tc: (tc[1][primary], tc[1][secondary]))
        return {"threshold": float(t), **c}

    return {
        "high_sensitivity": pick("sensitivity", "specificity", "specificity"),
        "high_specificity": pick("specificity", "sensitivity", "sensitivity"),
    }
