"""Empirical ROC curves and the empirical (Wilcoxon / Mann-Whitney) AUC, ties counted 1/2.

Convention everywhere: higher score = more likely positive; a case is called positive when
``score >= threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata


@dataclass(frozen=True)
class RocCurve:
    """Empirical ROC vertices from (0, 0) to (1, 1).

    ``thresholds[i]`` is the smallest score called positive at vertex i (``+inf`` for the
    all-negative vertex). ``cut_points[i]`` is the pROC-style midpoint between that score and the
    next lower distinct score (``-inf`` for the all-positive vertex); both give the same calls.
    """

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    cut_points: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    n_pos: int
    n_neg: int

    @property
    def auc(self) -> float:
        return float(np.trapezoid(self.tpr, self.fpr))


def _check(truth: npt.ArrayLike, score: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    truth = np.asarray(truth).astype(int)
    score = np.asarray(score, dtype=float)
    if truth.shape != score.shape:
        raise ValueError("truth and score must have the same shape")
    if not np.isin(truth, (0, 1)).all():
        raise ValueError("truth must be 0/1")
    if truth.min() == truth.max():
        raise ValueError("truth must contain both classes")
    if not np.isfinite(score).all():
        raise ValueError("scores must be finite")
    return truth, score


def roc_curve(truth: npt.ArrayLike, score: npt.ArrayLike) -> RocCurve:
    truth, score = _check(truth, score)
    order = np.argsort(-score, kind="mergesort")
    s = score[order]
    t = truth[order]
    distinct = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tp = np.r_[0, np.cumsum(t)[distinct]]
    fp = np.r_[0, np.cumsum(1 - t)[distinct]]
    n_pos, n_neg = int(t.sum()), int(len(t) - t.sum())
    thresholds = np.r_[np.inf, s[distinct]]
    lower = np.r_[s[distinct][1:], -np.inf]
    cut = np.r_[np.inf, np.where(np.isfinite(lower), (s[distinct] + lower) / 2.0, -np.inf)]
    return RocCurve(
        fpr=fp / n_neg,
        tpr=tp / n_pos,
        thresholds=thresholds,
        cut_points=cut,
        tp=tp.astype(int),
        fp=fp.astype(int),
        n_pos=n_pos,
        n_neg=n_neg,
    )


def empirical_auc(truth: npt.ArrayLike, score: npt.ArrayLike) -> np.ndarray | float:
    """Wilcoxon AUC. ``score`` may be 2-D (rows = readers/modalities, columns = cases)."""
    truth = np.asarray(truth).astype(bool)
    score = np.asarray(score, dtype=float)
    ranks = rankdata(score, axis=-1)
    n1 = truth.sum()
    n0 = truth.size - n1
    auc = (ranks[..., truth].sum(axis=-1) - n1 * (n1 + 1) / 2.0) / (n1 * n0)
    return float(auc) if np.ndim(auc) == 0 else auc
