"""Figures of merit (FOM) per reader x modality, their case-jackknife and DeLong covariances.

FOMs: ``auc`` (empirical/Wilcoxon AUC of ratings, ties 1/2), ``sensitivity`` and
``specificity`` (of binary decisions) and ``accuracy``. Leave-one-case-out values use closed
forms (all these FOMs are U-statistics/means), so the jackknife costs O(n log n).

Sensitivity is jackknifed over the positive cases only and specificity over the negative cases
only (MRMCaov convention); ``jackknife_cases="all"`` deletes every case instead (a deleted case of
the other class leaves the FOM unchanged), as OR-DBM MRMC does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from .delong import delong_components
from .reads import natural_sorted

FOMS = ("auc", "sensitivity", "specificity", "accuracy")


class MrmcDesignError(ValueError):
    """The reads are not a fully crossed readers x cases x modalities design."""


@dataclass(frozen=True)
class FomData:
    fom: str
    modalities: list[str]
    readers: list[str]
    theta: np.ndarray  # (t, r)
    jack: np.ndarray  # (t, r, c): FOM with case k deleted, for the c jackknifed cases
    delong: np.ndarray | None = None  # (t*r, t*r) DeLong covariance (AUC and proportions)
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_jack(self) -> int:
        return int(self.jack.shape[2])

    def jackknife_cov(self) -> np.ndarray:
        cached = self._cache.get("jackknife")
        if cached is not None:
            return cached
        t, r, c = self.jack.shape
        dev = (self.jack - self.jack.mean(axis=2, keepdims=True)).reshape(t * r, c)
        self._cache["jackknife"] = (c - 1) / c * (dev @ dev.T)
        return self._cache["jackknife"]

    def covariance(self, method: str = "jackknife") -> np.ndarray:
        if method == "jackknife":
            return self.jackknife_cov()
        if method == "delong":
            if self.delong is None:
                raise ValueError(f"no DeLong covariance for FOM {self.fom!r}")
            return self.delong
        raise ValueError(f"unknown covariance method {method!r}; use 'jackknife' or 'delong'")

    def pseudovalues(self) -> np.ndarray:
        c = self.n_jack
        out: np.ndarray = c * self.theta[:, :, None] - (c - 1) * self.jack
        return out

    def table(self, method: str = "jackknife") -> pd.DataFrame:
        """Long table: modality, reader, estimate, se (from the chosen covariance)."""
        se = np.sqrt(np.clip(np.diag(self.covariance(method)), 0, None))
        t, r = self.theta.shape
        return pd.DataFrame(
            {
                "modality": np.repeat(self.modalities, r),
                "reader": np.tile(self.readers, t),
                "estimate": self.theta.ravel(),
                "se": se,
            }
        )


def fom_from_arrays(
    fom: str,
    truth: npt.ArrayLike,
    values: np.ndarray,
    modalities: list[str],
    readers: list[str],
    jackknife_cases: str = "truth_class",
) -> FomData:
    """``values``: (t, r, n) ratings (for ``auc``) or 0/1 decisions (other FOMs)."""
    if fom not in FOMS:
        raise ValueError(f"unknown FOM {fom!r}; expected one of {FOMS}")
    if jackknife_cases not in ("truth_class", "all"):
        raise ValueError("jackknife_cases must be 'truth_class' or 'all'")
    truth = np.asarray(truth).astype(bool)
    values = np.asarray(values, dtype=float)
    t, r, n = values.shape
    flat = values.reshape(t * r, n)
    n1, n0 = int(truth.sum()), int((~truth).sum())
    if fom == "auc":
        if n1 < 2 or n0 < 2:
            raise MrmcDesignError("AUC analysis needs at least 2 positive and 2 negative cases")
        comp = delong_components(truth, flat)
        theta = comp.auc
        jack = np.empty((t * r, n))
        jack[:, truth] = (n1 * theta[:, None] - comp.v10) / (n1 - 1)
        jack[:, ~truth] = (n0 * theta[:, None] - comp.v01) / (n0 - 1)
        return FomData(
            fom, modalities, readers, theta.reshape(t, r), jack.reshape(t, r, n), comp.cov
        )
    if fom == "accuracy":
        x, keep = (flat == truth).astype(float), np.ones(n, dtype=bool)
    elif fom == "sensitivity":
        x, keep = flat[:, truth], truth
    else:
        x, keep = 1.0 - flat[:, ~truth], ~truth
    m = x.shape[1]
    if m < 2:
        raise MrmcDesignError(f"{fom} analysis needs at least 2 cases of the relevant class")
    theta = x.mean(axis=1)
    delong = np.atleast_2d(np.cov(x)) / m
    loo = (m * theta[:, None] - x) / (m - 1)
    if jackknife_cases == "all" and fom != "accuracy":
        jack = np.repeat(theta[:, None], n, axis=1)
        jack[:, keep] = loo
    else:
        jack = loo
    return FomData(
        fom, modalities, readers, theta.reshape(t, r), jack.reshape(t, r, jack.shape[1]), delong
    )


def wide_arrays(
    reads: pd.DataFrame, conditions: list[str], column: str
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """Pivot validated reads to (t, r, n) ``column`` values; require a fully crossed design."""
    sub = reads[reads["condition"].isin(conditions)]
    if sub.empty:
        raise MrmcDesignError(f"no reads in conditions {conditions}")
    present = set(pd.unique(sub["condition"]))
    missing = [c for c in conditions if c not in present]
    if missing:
        raise MrmcDesignError(f"no reads in condition(s) {missing}")
    if sub[column].isna().any():
        raise MrmcDesignError(f"column '{column}' is missing for some {'/'.join(conditions)} reads")
    readers = natural_sorted(sub["reader"])
    cases = natural_sorted(sub["case"])
    expected = len(readers) * len(cases) * len(conditions)
    if len(sub) != expected:
        raise MrmcDesignError(
            f"MRMC analysis needs a fully crossed design: {len(readers)} readers x {len(cases)} "
            f"cases x {len(conditions)} conditions = {expected} reads, found {len(sub)}"
        )
    ti = pd.Categorical(sub["condition"], categories=conditions).codes
    ri = pd.Categorical(sub["reader"], categories=readers).codes
    ci = pd.Categorical(sub["case"], categories=cases).codes
    values = np.full((len(conditions), len(readers), len(cases)), np.nan)
    values[ti, ri, ci] = sub[column].to_numpy(dtype=float)
    if np.isnan(values).any():  # pragma: no cover - excluded by the count check + no duplicates
        raise MrmcDesignError("MRMC analysis needs a fully crossed design")
    truth = sub.drop_duplicates("case").set_index("case")["truth"].reindex(cases).to_numpy()
    return values, truth, readers, cases


def fom_from_reads(
    reads: pd.DataFrame,
    fom: str,
    conditions: list[str],
    jackknife_cases: str = "truth_class",
) -> FomData:
    column = "rating" if fom == "auc" else "decision"
    values, truth, readers, _ = wide_arrays(reads, conditions, column)
    return fom_from_arrays(fom, truth, values, list(conditions), readers, jackknife_cases)
