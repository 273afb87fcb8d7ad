"""DeLong, DeLong & Clarke-Pearson (1988) variance of correlated empirical AUCs.

Structural components by midranks (Sun & Xu 2014), vectorised over rows of a score matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats
from scipy.stats import rankdata


@dataclass(frozen=True)
class DeLongComponents:
    auc: np.ndarray  # (m,)
    v10: np.ndarray  # (m, n_pos): per positive case, fraction of negatives scored lower (ties 1/2)
    v01: np.ndarray  # (m, n_neg): per negative case, fraction of positives scored higher

    @property
    def cov(self) -> np.ndarray:
        """DeLong covariance matrix of the m AUCs: S10/n1 + S01/n0."""
        n1, n0 = self.v10.shape[1], self.v01.shape[1]
        s10 = np.atleast_2d(np.cov(self.v10)) if n1 > 1 else np.zeros((len(self.auc),) * 2)
        s01 = np.atleast_2d(np.cov(self.v01)) if n0 > 1 else np.zeros((len(self.auc),) * 2)
        out: np.ndarray = s10 / n1 + s01 / n0
        return out


def delong_components(truth: npt.ArrayLike, scores: npt.ArrayLike) -> DeLongComponents:
    """``scores``: (m, n) array (or 1-D for a single rater); ``truth``: (n,) 0/1."""
    truth = np.asarray(truth).astype(bool)
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    pos, neg = scores[:, truth], scores[:, ~truth]
    n1, n0 = pos.shape[1], neg.shape[1]
    if n1 == 0 or n0 == 0:
        raise ValueError("DeLong needs positive and negative cases")
    r_all = rankdata(np.concatenate([pos, neg], axis=1), axis=1)
    r_pos = rankdata(pos, axis=1)
    r_neg = rankdata(neg, axis=1)
    v10 = (r_all[:, :n1] - r_pos) / n0
    v01 = 1.0 - (r_all[:, n1:] - r_neg) / n1
    auc = v10.mean(axis=1)
    return DeLongComponents(auc=auc, v10=v10, v01=v01)


def delong_cov(truth: npt.ArrayLike, scores: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    comp = delong_components(truth, scores)
    return comp.auc, comp.cov


def delong_ci(truth: npt.ArrayLike, score: npt.ArrayLike, level: float = 0.95) -> dict[str, float]:
    """AUC with a DeLong (normal) CI, truncated to [0, 1] as pROC does."""
    auc, cov = delong_cov(truth, score)
    se = float(np.sqrt(max(cov[0, 0], 0.0)))
    z = stats.norm.ppf(0.5 + level / 2)
    a = float(auc[0])
    return {
        "estimate": a,
        "se": se,
        "ci_low": max(0.0, a - z * se),
        "ci_high": min(1.0, a + z * se),
    }


@dataclass(frozen=True)
class PairedDeLong:
    auc1: float
    auc2: float
    diff: float  # auc2 - auc1
    var1: float
    var2: float
    cov12: float
    se: float
    z: float
    p: float
    ci_low: float
    ci_high: float


def delong_paired(
    truth: npt.ArrayLike, score1: npt.ArrayLike, score2: npt.ArrayLike, level: float = 0.95
) -> PairedDeLong:
    """Paired DeLong test of two AUCs on the same cases; ``diff`` = AUC(score2) - AUC(score1)."""
    auc, cov = delong_cov(truth, np.vstack([score1, score2]))
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    se = float(np.sqrt(max(var, 0.0)))
    diff = float(auc[1] - auc[0])
    z = diff / se if se > 0 else (0.0 if diff == 0 else np.copysign(np.inf, diff))
    q = stats.norm.ppf(0.5 + level / 2)
    return PairedDeLong(
        auc1=float(auc[0]),
        auc2=float(auc[1]),
        diff=diff,
        var1=float(cov[0, 0]),
        var2=float(cov[1, 1]),
        cov12=float(cov[0, 1]),
        se=se,
        z=float(z),
        p=float(2 * stats.norm.sf(abs(z))),
        ci_low=diff - q * se,
        ci_high=diff + q * se,
    )
