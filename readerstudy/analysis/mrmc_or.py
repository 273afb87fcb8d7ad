"""Obuchowski-Rockette (OR) analysis with Hillis' denominator degrees of freedom.

Random readers and random cases (RRRC, Hillis 2007 ddf_H), fixed readers (FRRC, chi-square /
z, with max(Cov2 - Cov3, 0) clipping as in OR-DBM MRMC 2.51 and RJafroc), fixed cases (RRFC).
Pairwise differences are ``a - b`` for modalities a listed before b. CIs are not truncated.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .fom import FomData


@dataclass(frozen=True)
class OrComponents:
    var: float
    cov1: float
    cov2: float
    cov3: float
    ms_t: float
    ms_r: float
    ms_tr: float
    var_r: float
    var_tr: float
    var_by_modality: np.ndarray
    cov2_by_modality: np.ndarray
    ms_r_by_modality: np.ndarray
    var_by_reader: np.ndarray
    cov1_by_reader: np.ndarray


def ratio(num: float, den: float) -> float:
    """num / den for test statistics: inf (or NaN for 0/0) when the error term is 0, NaN when it
    is negative (degenerate data, e.g. every reader perfect)."""
    num, den = float(num), float(den)
    if den > 0:
        return num / den
    if den == 0 and num != 0:
        return float(np.copysign(np.inf, num))
    return float("nan")


def root(x: float) -> float:
    return float(np.sqrt(x)) if x >= 0 else float("nan")


def _mean_where(cov: np.ndarray, mask: np.ndarray) -> float:
    return float(cov[mask].mean()) if mask.any() else 0.0


def or_components(theta: np.ndarray, cov: np.ndarray) -> OrComponents:
    t, r = theta.shape
    mod = np.repeat(np.arange(t), r)
    rdr = np.tile(np.arange(r), t)
    same_m = mod[:, None] == mod[None, :]
    same_r = rdr[:, None] == rdr[None, :]
    var = float(np.diag(cov).mean())
    cov1 = _mean_where(cov, same_r & ~same_m)
    cov2 = _mean_where(cov, same_m & ~same_r)
    cov3 = _mean_where(cov, ~same_m & ~same_r)
    var_i = np.array([np.diag(cov)[mod == i].mean() for i in range(t)])
    cov2_i = np.array([_mean_where(cov, same_m & ~same_r & (mod[:, None] == i)) for i in range(t)])
    var_j = np.array([np.diag(cov)[rdr == j].mean() for j in range(r)])
    cov1_j = np.array([_mean_where(cov, same_r & ~same_m & (rdr[:, None] == j)) for j in range(r)])
    m_i, m_j, m = theta.mean(axis=1), theta.mean(axis=0), theta.mean()
    ms_t = r * np.sum((m_i - m) ** 2) / (t - 1) if t > 1 else np.nan
    ms_r = t * np.sum((m_j - m) ** 2) / (r - 1) if r > 1 else np.nan
    resid = theta - m_i[:, None] - m_j[None, :] + m
    ms_tr = np.sum(resid**2) / ((t - 1) * (r - 1)) if t > 1 and r > 1 else np.nan
    ms_r_i = np.sum((theta - m_i[:, None]) ** 2, axis=1) / (r - 1) if r > 1 else np.full(t, np.nan)
    var_tr = ms_tr - var + cov1 + cov2 - cov3
    var_r = (ms_r - var_tr - var - (t - 1) * cov1 + cov2 + (t - 1) * cov3) / t
    return OrComponents(
        var,
        cov1,
        cov2,
        cov3,
        float(ms_t),
        float(ms_r),
        float(ms_tr),
        float(var_r),
        float(var_tr),
        var_i,
        cov2_i,
        ms_r_i,
        var_j,
        cov1_j,
    )


def _t_row(
    label: str, a: str, b: str, est: float, se: float, df: float | None, level: float
) -> dict[str, Any]:
    if df is None:  # z-based
        stat = est / se if se > 0 else np.nan
        p = 2 * stats.norm.sf(abs(stat))
        q = stats.norm.ppf(0.5 + level / 2)
    else:
        stat = est / se if se > 0 else np.nan
        p = 2 * stats.t.sf(abs(stat), df)
        q = stats.t.ppf(0.5 + level / 2, df)
    return {
        "comparison": label,
        "a": a,
        "b": b,
        "estimate": est,
        "se": se,
        "df": np.inf if df is None else df,
        "stat": stat,
        "p": p,
        "ci_low": est - q * se,
        "ci_high": est + q * se,
    }


@dataclass
class OrAnalysis:
    """Result of :func:`or_analysis`; the tables are plain DataFrames."""

    fom: str
    cov_method: str
    modalities: list[str]
    readers: list[str]
    theta: np.ndarray
    cov: np.ndarray
    components: OrComponents
    level: float
    rrrc: dict[str, Any] = field(default_factory=dict)
    frrc: dict[str, Any] = field(default_factory=dict)
    rrfc: dict[str, Any] = field(default_factory=dict)

    def means(self) -> dict[str, float]:
        return dict(zip(self.modalities, self.theta.mean(axis=1).tolist(), strict=True))

    def difference(self, analysis: str, a: str, b: str) -> dict[Hashable, Any]:
        """Row of ``analysis``'s pairwise table for ``a - b``."""
        return pairwise_difference(getattr(self, analysis)["pairwise"], a, b)


def flip(row: dict[Hashable, Any]) -> dict[Hashable, Any]:
    """The same comparison the other way round (b - a)."""
    out = dict(row)
    out.update(
        comparison=f"{row['b']} - {row['a']}",
        a=row["b"],
        b=row["a"],
        estimate=-row["estimate"],
        stat=-row["stat"],
        ci_low=-row["ci_high"],
        ci_high=-row["ci_low"],
    )
    return out


def pairwise_difference(table: pd.DataFrame, a: str, b: str) -> dict[Hashable, Any]:
    """Row of a pairwise table for ``a - b`` (sign flipped if stored as ``b - a``)."""
    hit = table[(table["a"] == a) & (table["b"] == b)]
    if len(hit):
        return hit.iloc[0].to_dict()
    return flip(table[(table["a"] == b) & (table["b"] == a)].iloc[0].to_dict())


def or_analysis(data: FomData, cov_method: str = "jackknife", level: float = 0.95) -> OrAnalysis:
    theta = data.theta
    t, r = theta.shape
    if t < 2 or r < 2:
        raise ValueError("OR analysis needs at least 2 modalities and 2 readers")
    cov = data.covariance(cov_method)
    c = or_components(theta, cov)
    res = OrAnalysis(data.fom, cov_method, data.modalities, data.readers, theta, cov, c, level)
    res.rrrc = _rrrc(c, res)
    res.frrc = _frrc(c, res)
    res.rrfc = _rrfc(c, res)
    return res


def _pairwise(res: OrAnalysis, se: float, df: float | None) -> pd.DataFrame:
    """Every pair of modalities' difference of reader-averaged FOMs, with one SE and df."""
    mods, means = res.modalities, res.theta.mean(axis=1)
    return pd.DataFrame(
        [
            _t_row(
                f"{mods[i]} - {mods[j]}", mods[i], mods[j], means[i] - means[j], se, df, res.level
            )
            for i, j in combinations(range(len(mods)), 2)
        ]
    )


def _rrrc(c: OrComponents, res: OrAnalysis) -> dict[str, Any]:
    """Random readers, random cases."""
    t, r = res.theta.shape
    means = res.theta.mean(axis=1)
    den = c.ms_tr + r * max(c.cov2 - c.cov3, 0.0)
    ddf = den**2 / (c.ms_tr**2 / ((t - 1) * (r - 1))) if c.ms_tr > 0 else np.inf
    f = ratio(c.ms_t, den)
    return {
        "F": f,
        "df1": t - 1,
        "ddf": ddf,
        "p": stats.f.sf(f, t - 1, ddf),
        "error_term": den,
        "pairwise": _pairwise(res, root(2.0 / r * den), ddf),
        "single": pd.DataFrame(
            [
                _single_rrrc(
                    res.modalities[i],
                    means[i],
                    c.ms_r_by_modality[i],
                    c.cov2_by_modality[i],
                    r,
                    res.level,
                )
                for i in range(t)
            ]
        ),
    }


def _frrc(c: OrComponents, res: OrAnalysis) -> dict[str, Any]:
    """Fixed readers, random cases: overall, per modality and per reader."""
    t, r = res.theta.shape
    means = res.theta.mean(axis=1)
    den_fr = c.var - c.cov1 + (r - 1) * max(c.cov2 - c.cov3, 0.0)
    x2 = ratio((t - 1) * c.ms_t, den_fr)
    z = stats.norm.ppf(0.5 + res.level / 2)
    single_fr = []
    for i in range(t):
        s = root((c.var_by_modality[i] + (r - 1) * max(c.cov2_by_modality[i], 0.0)) / r)
        single_fr.append(
            {
                "modality": res.modalities[i],
                "estimate": means[i],
                "se": s,
                "ci_low": means[i] - z * s,
                "ci_high": means[i] + z * s,
            }
        )
    return {
        "X2": x2,
        "df": t - 1,
        "p": stats.chi2.sf(x2, t - 1),
        "error_term": den_fr,
        "pairwise": _pairwise(res, root(2.0 / r * den_fr), None),
        "single": pd.DataFrame(single_fr),
        "per_reader": _frrc_per_reader(c, res),
    }


def _frrc_per_reader(c: OrComponents, res: OrAnalysis) -> pd.DataFrame:
    """Each reader's pairwise differences, fixed readers, random cases."""
    mods, theta = res.modalities, res.theta
    pairs = list(combinations(range(len(mods)), 2))
    first = np.array([i for i, _ in pairs], dtype=int)
    second = np.array([k for _, k in pairs], dtype=int)
    # One SE per reader from its variance and Cov1 averaged over all modalities, as
    # OR-DBM MRMC computes (with two modalities: Var_a + Var_b - 2 Cov_ab). Rows are reader-
    # major, the pairs in order (the same rows _t_row gives one at a time, all at once).
    s = np.sqrt(np.maximum(2.0 * (c.var_by_reader - c.cov1_by_reader), 0.0))
    est = (theta[first, :] - theta[second, :]).T.ravel()
    se = np.repeat(s, len(pairs))
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = np.where(se > 0, est / np.where(se > 0, se, 1.0), np.nan)
    q = stats.norm.ppf(0.5 + res.level / 2)
    n = len(res.readers)
    return pd.DataFrame(
        {
            "reader": np.repeat(np.asarray(res.readers, dtype=object), len(pairs)),
            "comparison": [f"{mods[i]} - {mods[k]}" for i, k in pairs] * n,
            "a": [mods[i] for i in first] * n,
            "b": [mods[k] for k in second] * n,
            "estimate": est,
            "se": se,
            "df": np.inf,
            "stat": stat,
            "p": 2 * stats.norm.sf(np.abs(stat)),
            "ci_low": est - q * se,
            "ci_high": est + q * se,
        }
    )


def _rrfc(c: OrComponents, res: OrAnalysis) -> dict[str, Any]:
    """Random readers, fixed cases (conventional treatment x reader ANOVA)."""
    t, r = res.theta.shape
    means = res.theta.mean(axis=1)
    df_rf = (t - 1) * (r - 1)
    f_rf = ratio(c.ms_t, c.ms_tr)
    single_rf = []
    for i in range(t):
        s = root(c.ms_r_by_modality[i] / r)
        q = stats.t.ppf(0.5 + res.level / 2, r - 1)
        single_rf.append(
            {
                "modality": res.modalities[i],
                "estimate": means[i],
                "se": s,
                "df": r - 1,
                "ci_low": means[i] - q * s,
                "ci_high": means[i] + q * s,
            }
        )
    return {
        "F": f_rf,
        "df1": t - 1,
        "ddf": df_rf,
        "p": stats.f.sf(f_rf, t - 1, df_rf),
        "pairwise": _pairwise(res, root(2.0 / r * c.ms_tr), df_rf),
        "single": pd.DataFrame(single_rf),
    }


def _single_rrrc(
    modality: str, est: float, ms_r: float, cov2: float, r: int, level: float
) -> dict[str, Any]:
    err = ms_r + r * max(cov2, 0.0)
    se = root(err / r)
    df = err**2 / (ms_r**2 / (r - 1)) if ms_r > 0 else np.inf
    q = stats.t.ppf(0.5 + level / 2, df)
    return {
        "modality": modality,
        "estimate": est,
        "se": se,
        "df": df,
        "ci_low": est - q * se,
        "ci_high": est + q * se,
        "ms_r": ms_r,
        "cov2": cov2,
    }
