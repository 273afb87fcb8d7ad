"""Dorfman-Berbaum-Metz (DBM) analysis of jackknife pseudovalues with Hillis' ddf.

Three-way ANOVA (modality fixed; reader and case random; all interactions) of
Y_ijk = c*theta_ij - (c-1)*theta_ij(-k). With Hillis' ddf_H the RRRC test equals the OR test with
jackknife covariances (Hillis et al. 2005). FRRC uses F = MS(T)/MS(TC) with (t-1)(c-1) df.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .fom import FomData
from .mrmc_or import _t_row, ratio, root


def _anova3(y: np.ndarray) -> dict[str, float]:
    t, r, c = y.shape
    m = y.mean()
    m_i = y.mean(axis=(1, 2))
    m_j = y.mean(axis=(0, 2))
    m_k = y.mean(axis=(0, 1))
    m_ij = y.mean(axis=2)
    m_ik = y.mean(axis=1)
    m_jk = y.mean(axis=0)
    ss = {
        "T": r * c * np.sum((m_i - m) ** 2),
        "R": t * c * np.sum((m_j - m) ** 2),
        "C": t * r * np.sum((m_k - m) ** 2),
        "TR": c * np.sum((m_ij - m_i[:, None] - m_j[None, :] + m) ** 2),
        "TC": r * np.sum((m_ik - m_i[:, None] - m_k[None, :] + m) ** 2),
        "RC": t * np.sum((m_jk - m_j[:, None] - m_k[None, :] + m) ** 2),
    }
    resid = (
        y
        - m_ij[:, :, None]
        - m_ik[:, None, :]
        - m_jk[None, :, :]
        + m_i[:, None, None]
        + m_j[None, :, None]
        + m_k[None, None, :]
        - m
    )
    ss["TRC"] = np.sum(resid**2)
    df = {
        "T": t - 1,
        "R": r - 1,
        "C": c - 1,
        "TR": (t - 1) * (r - 1),
        "TC": (t - 1) * (c - 1),
        "RC": (r - 1) * (c - 1),
        "TRC": (t - 1) * (r - 1) * (c - 1),
    }
    return {k: ss[k] / df[k] if df[k] > 0 else np.nan for k in ss} | {
        f"df_{k}": v for k, v in df.items()
    }


def _anova2(y: np.ndarray) -> dict[str, float]:
    """Reader x case ANOVA of one modality's pseudovalues."""
    r, c = y.shape
    m = y.mean()
    m_j, m_k = y.mean(axis=1), y.mean(axis=0)
    resid = y - m_j[:, None] - m_k[None, :] + m
    return {
        "R": c * np.sum((m_j - m) ** 2) / (r - 1),
        "C": r * np.sum((m_k - m) ** 2) / (c - 1),
        "RC": np.sum(resid**2) / ((r - 1) * (c - 1)),
    }


@dataclass
class DbmAnalysis:
    fom: str
    modalities: list[str]
    readers: list[str]
    ms: dict[str, Any]
    var_components: dict[str, Any]
    level: float
    rrrc: dict[str, Any] = field(default_factory=dict)
    frrc: dict[str, Any] = field(default_factory=dict)
    rrfc: dict[str, Any] = field(default_factory=dict)

    def anova_table(self) -> pd.DataFrame:
        rows = [
            {"source": k, "df": self.ms[f"df_{k}"], "ms": self.ms[k]}
            for k in ("T", "R", "C", "TR", "TC", "RC", "TRC")
        ]
        return pd.DataFrame(rows)


def dbm_analysis(data: FomData, level: float = 0.95) -> DbmAnalysis:
    y = data.pseudovalues()
    t, r, c = y.shape
    if t < 2 or r < 2:
        raise ValueError("DBM analysis needs at least 2 modalities and 2 readers")
    ms = _anova3(y)
    vc = {
        "var_r": (ms["R"] - ms["TR"] - ms["RC"] + ms["TRC"]) / (t * c),
        "var_c": (ms["C"] - ms["TC"] - ms["RC"] + ms["TRC"]) / (t * r),
        "var_tr": (ms["TR"] - ms["TRC"]) / c,
        "var_tc": (ms["TC"] - ms["TRC"]) / r,
        "var_rc": (ms["RC"] - ms["TRC"]) / t,
        "var_trc_error": ms["TRC"],
    }
    mods = data.modalities
    means = y.mean(axis=(1, 2))
    pairs = list(combinations(range(t), 2))
    res = DbmAnalysis(data.fom, mods, data.readers, ms, vc, level)

    den = ms["TR"] + max(ms["TC"] - ms["TRC"], 0.0)
    ddf = den**2 / (ms["TR"] ** 2 / ms["df_TR"]) if ms["TR"] > 0 else np.inf
    f = ratio(ms["T"], den)
    se = root(2.0 / (r * c) * den)
    single = []
    for i in range(t):
        a = _anova2(y[i])
        err = a["R"] + max(a["C"] - a["RC"], 0.0)
        s = root(err / (r * c))
        df_i = err**2 / (a["R"] ** 2 / (r - 1)) if a["R"] > 0 else np.inf
        q = stats.t.ppf(0.5 + level / 2, df_i)
        single.append(
            {
                "modality": mods[i],
                "estimate": means[i],
                "se": s,
                "df": df_i,
                "ci_low": means[i] - q * s,
                "ci_high": means[i] + q * s,
            }
        )
    res.rrrc = {
        "F": f,
        "df1": t - 1,
        "ddf": ddf,
        "p": stats.f.sf(f, t - 1, ddf),
        "error_term": den,
        "pairwise": pd.DataFrame(
            [
                _t_row(
                    f"{mods[i]} - {mods[j]}", mods[i], mods[j], means[i] - means[j], se, ddf, level
                )
                for i, j in pairs
            ]
        ),
        "single": pd.DataFrame(single),
    }
    df_fr = ms["df_TC"]
    f_fr = ratio(ms["T"], ms["TC"])
    se_fr = root(2.0 / (r * c) * ms["TC"])
    res.frrc = {
        "F": f_fr,
        "df1": t - 1,
        "ddf": df_fr,
        "p": stats.f.sf(f_fr, t - 1, df_fr),
        "pairwise": pd.DataFrame(
            [
                _t_row(
                    f"{mods[i]} - {mods[j]}",
                    mods[i],
                    mods[j],
                    means[i] - means[j],
                    se_fr,
                    df_fr,
                    level,
                )
                for i, j in pairs
            ]
        ),
    }
    df_rf = ms["df_TR"]
    f_rf = ratio(ms["T"], ms["TR"])
    se_rf = root(2.0 / (r * c) * ms["TR"])
    res.rrfc = {
        "F": f_rf,
        "df1": t - 1,
        "ddf": df_rf,
        "p": stats.f.sf(f_rf, t - 1, df_rf),
        "pairwise": pd.DataFrame(
            [
                _t_row(
                    f"{mods[i]} - {mods[j]}",
                    mods[i],
                    mods[j],
                    means[i] - means[j],
                    se_rf,
                    df_rf,
                    level,
                )
                for i, j in pairs
            ]
        ),
    }
    return res
