# mypy: disable-error-code="import-untyped"
"""Seed 001's feature selection, applied alike to the Rad, DL and fused (DLR) sets.

On the training set only: SMOTE oversampling of the minority class (imbalanced-learn),
z-score standardisation, Mann-Whitney U (keep p < 0.05), Pearson pruning (of a pair with
|r| > 0.9 the less significant feature goes), LASSO with lambda chosen by 10-fold CV at
the minimum CV error (scikit-learn ``LassoCV``); features with non-zero coefficients stay.
Each step raises :class:`SelectionError` naming the step when nothing survives it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


class SelectionError(ValueError):
    """A selection step left no feature (or got unusable input)."""


@dataclass
class Selection:
    """The selected features and the z-score each one needs (fitted on SMOTE'd training)."""

    names: list[str]
    mean: np.ndarray
    scale: np.ndarray
    lasso_coef: np.ndarray
    lasso_alpha: float
    counts: dict[str, int] = field(default_factory=dict)

    def transform(
        self, values: dict[str, float] | np.ndarray, names: list[str] | None = None
    ) -> np.ndarray:
        """z-scores of the selected features, from a {name: value} dict or a matrix whose
        columns are ``names``."""
        if isinstance(values, dict):
            missing = [n for n in self.names if n not in values]
            if missing:
                raise SelectionError(f"features missing from the input: {missing[:10]}")
            x = np.array([[values[n] for n in self.names]], dtype=np.float64)
        else:
            assert names is not None
            index = {n: i for i, n in enumerate(names)}
            x = np.asarray(values, dtype=np.float64)[:, [index[n] for n in self.names]]
        out: np.ndarray = (x - self.mean) / self.scale
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "names": self.names,
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "lasso_coef": self.lasso_coef.tolist(),
            "lasso_alpha": self.lasso_alpha,
            "counts": self.counts,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Selection:
        return cls(
            names=list(d["names"]),
            mean=np.asarray(d["mean"], dtype=np.float64),
            scale=np.asarray(d["scale"], dtype=np.float64),
            lasso_coef=np.asarray(d["lasso_coef"], dtype=np.float64),
            lasso_alpha=float(d["lasso_alpha"]),
            counts={str(k): int(v) for k, v in d.get("counts", {}).items()},
        )


def smote(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from imblearn.over_sampling import SMOTE

    counts = np.bincount(y, minlength=2)
    if counts.min() < 2:
        raise SelectionError(f"SMOTE needs at least 2 cases of each class, got {counts.tolist()}")
    k = int(min(5, counts.min() - 1))
    xs, ys = SMOTE(random_state=seed, k_neighbors=k).fit_resample(x, y)
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.int64)


def zscore(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    return (x - scaler.mean_) / scale, np.asarray(scaler.mean_), np.asarray(scale)


def mann_whitney(
    z: np.ndarray, y: np.ndarray, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """(indices with p < alpha, p of every column)."""
    from scipy.stats import mannwhitneyu

    p = np.asarray(mannwhitneyu(z[y == 1], z[y == 0], axis=0).pvalue, dtype=np.float64)
    p = np.where(np.isfinite(p), p, 1.0)
    keep = np.flatnonzero(p < alpha)
    if keep.size == 0:
        raise SelectionError(f"Mann-Whitney U: no feature has p < {alpha}")
    return keep, p


def pearson_prune(z: np.ndarray, p: np.ndarray, threshold: float = 0.9) -> np.ndarray:
    """Columns kept, most significant first: each drops later ones with |r| > threshold."""
    order = np.argsort(p, kind="stable")
    r = np.abs(np.corrcoef(z[:, order], rowvar=False)) if len(order) > 1 else np.ones((1, 1))
    r = np.nan_to_num(r, nan=0.0)
    kept: list[int] = []
    for j in range(len(order)):
        if all(r[j, i] <= threshold for i in kept):
            kept.append(j)
    return order[kept]


def lasso(z: np.ndarray, y: np.ndarray, seed: int, folds: int = 10) -> tuple[np.ndarray, float]:
    """(coefficients, lambda_min) of LASSO with ``folds``-fold CV."""
    from sklearn.linear_model import LassoCV
    from sklearn.model_selection import KFold

    cv = KFold(n_splits=folds, shuffle=True, random_state=seed)
    model = LassoCV(cv=cv, random_state=seed, max_iter=20000, alphas=100).fit(z, y)
    coef = np.asarray(model.coef_, dtype=np.float64)
    if not np.any(coef != 0):
        raise SelectionError(f"LASSO (lambda_min = {model.alpha_:.4g}) kept no feature")
    return coef, float(model.alpha_)


def select(
    x: np.ndarray, y: np.ndarray, names: list[str], *, seed: int, folds: int = 10
) -> Selection:
    """The seed's five steps on training features ``x`` (n, p) with classes ``y`` (0/1)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    if x.ndim != 2 or x.shape != (len(y), len(names)):
        raise SelectionError(f"x must be (n_cases, n_features) = ({len(y)}, {len(names)})")
    if not np.all(np.isfinite(x)):
        raise SelectionError("features hold non-finite values")
    xs, ys = smote(x, y, seed)
    z, mean, scale = zscore(xs)
    keep, p = mann_whitney(z, ys)
    pruned = keep[pearson_prune(z[:, keep], p[keep])]
    coef, alpha = lasso(z[:, pruned], ys, seed, folds)
    final = pruned[coef != 0]
    return Selection(
        names=[names[i] for i in final],
        mean=mean[final],
        scale=scale[final],
        lasso_coef=coef[coef != 0],
        lasso_alpha=alpha,
        counts={
            "input": len(names),
            "smote_cases": int(len(ys)),
            "mann_whitney": int(keep.size),
            "pearson": int(pruned.size),
            "lasso": int(final.size),
        },
    )
