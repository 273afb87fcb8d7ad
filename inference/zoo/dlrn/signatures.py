# mypy: disable-error-code="import-untyped"
"""Signatures (random forests) and the DLRN (logistic regression), as seed 001 builds them.

* Rad, DL and DLR signatures: a random forest on the selected, z-scored features of the
  SMOTE'd training set, hyperparameters by grid search with stratified 5-fold CV (AUC).
* Clinical screen: chi-square test of each covariate against the class on the training
  set (continuous covariates dichotomised at the training median); p < 0.05 is kept.
* DLRN: logistic regression of the DLR signature with the kept covariates. The signature
  value it is fitted on is the forest's out-of-fold probability (5-fold, best
  hyperparameters), since in-sample forest probabilities are near 0 or 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

GRID = {"n_estimators": [50, 150], "max_depth": [2, 3, 5], "min_samples_leaf": [1, 3]}


def fit_forest(z: np.ndarray, y: np.ndarray, seed: int, folds: int = 5) -> Any:
    """GridSearchCV(RandomForestClassifier) refitted on all of ``z``."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    search = GridSearchCV(
        RandomForestClassifier(random_state=seed, n_jobs=1),
        GRID,
        cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed),
        scoring="roc_auc",
        n_jobs=1,
    )
    return search.fit(z, y)


def out_of_fold(search: Any, z: np.ndarray, y: np.ndarray, seed: int, folds: int = 5) -> np.ndarray:
    """P(positive) of each case from a forest (best hyperparameters) not trained on it."""
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    est = clone(search.best_estimator_)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return np.asarray(cross_val_predict(est, z, y, cv=cv, method="predict_proba")[:, 1])


def chi_square_screen(
    covariates: dict[str, np.ndarray], y: np.ndarray, alpha: float = 0.05
) -> tuple[list[str], dict[str, dict[str, float]]]:
    """(kept names, {name: {"p", "statistic", "cut"?}}) of the chi-square screen."""
    from scipy.stats import chi2_contingency

    kept, report = [], {}
    for name, values in covariates.items():
        v = np.asarray(values, dtype=np.float64)
        entry: dict[str, float] = {}
        if set(np.unique(v)) <= {0.0, 1.0}:
            binary = v.astype(int)
        else:
            cut = float(np.median(v))
            binary = (v > cut).astype(int)
            entry["cut"] = cut
        table = np.array([[np.sum((binary == a) & (y == b)) for b in (0, 1)] for a in (0, 1)])
        if (table.sum(axis=1) == 0).any():
            entry.update(statistic=0.0, p=1.0)
        else:
            res = chi2_contingency(table, correction=True)
            entry.update(statistic=float(res.statistic), p=float(res.pvalue))
        report[name] = entry
        if entry["p"] < alpha:
            kept.append(name)
    return kept, report


def fit_logistic(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """(intercept, coefficients) of an (almost) unpenalised logistic regression."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=100.0, max_iter=5000).fit(x, y)
    return float(model.intercept_[0]), np.asarray(model.coef_[0], dtype=np.float64)


def logistic_probability(intercept: float, coef: Sequence[float], x: Sequence[float]) -> float:
    lp = float(intercept) + float(np.dot(np.asarray(coef, float), np.asarray(x, float)))
    return float(1.0 / (1.0 + np.exp(-lp)))
