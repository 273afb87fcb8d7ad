"""MRMC analysis of a read table: FOMs, OR (with the chosen covariance) and DBM, per-reader
DeLong tests, as plain dicts/DataFrames. Differences are ``b - a`` for ``conditions=(a, b)``,
i.e. aided - unaided by default. With three or more conditions the analyses test all of them
at once (overall F / chi-square) and list every pairwise difference, later minus earlier."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .delong import delong_components
from .fom import FomData, fom_from_reads, wide_arrays
from .mrmc_dbm import DbmAnalysis, dbm_analysis
from .mrmc_or import OrAnalysis, flip, or_analysis, pairwise_difference
from .reads import ensure_valid


@dataclass
class MrmcResult:
    fom: str
    conditions: tuple[str, ...]
    cov_method: str
    jackknife_cases: str
    data: FomData
    orr: OrAnalysis
    dbm: DbmAnalysis
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_cases(self) -> int:
        return int(self.data.jack.shape[2])

    def _diff(self, analysis: OrAnalysis | DbmAnalysis, name: str) -> dict[str, Any]:
        a, b = self.conditions
        row = pairwise_difference(getattr(analysis, name)["pairwise"], b, a)
        return {
            "diff": row["estimate"],
            "se": row["se"],
            "df": row["df"],
            "stat": row["stat"],
            "p": row["p"],
            "ci_low": row["ci_low"],
            "ci_high": row["ci_high"],
        }

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """(a, b) for every pairwise difference b - a, in the order of ``conditions``."""
        return list(combinations(self.conditions, 2))

    def per_reader(self) -> pd.DataFrame:
        if "per_reader" not in self._cache:
            self._cache["per_reader"] = (
                self._per_reader() if len(self.conditions) == 2 else self._per_reader_long()
            )
        cached: pd.DataFrame = self._cache["per_reader"]
        return cached.copy()

    def _per_reader_long(self) -> pd.DataFrame:
        """Three or more conditions: one row per reader x comparison (``comparison`` = b - a),
        with every condition's FOM and SE and that comparison's per-reader FRRC test."""
        t, r = self.data.theta.shape
        se = self.data.table(self.cov_method)["se"].to_numpy().reshape(t, r)
        fr = self.orr.frrc["per_reader"]  # reader-major, pairs "a - b" with a listed first
        n_pairs = len(self.pairs)
        out = pd.DataFrame({"reader": fr["reader"].to_numpy()})
        for i, cond in enumerate(self.conditions):
            out[cond] = np.repeat(self.data.theta[i], n_pairs)
            out[f"{cond}_se"] = np.repeat(se[i], n_pairs)
        out["comparison"] = [f"{b} - {a}" for a, b in fr[["a", "b"]].itertuples(index=False)]
        out["diff"] = -fr["estimate"].to_numpy()  # later minus earlier
        out["diff_se"] = fr["se"].to_numpy()
        out["diff_ci_low"] = -fr["ci_high"].to_numpy()
        out["diff_ci_high"] = -fr["ci_low"].to_numpy()
        out["z"] = -fr["stat"].to_numpy()
        out["p"] = fr["p"].to_numpy()
        return out

    def _per_reader(self) -> pd.DataFrame:
        a, b = self.conditions
        tab = self.data.table(self.cov_method).pivot(index="reader", columns="modality")
        out = pd.DataFrame(index=self.data.readers)
        out.index.name = "reader"
        for cond in (a, b):
            out[cond] = tab[("estimate", cond)]
            out[f"{cond}_se"] = tab[("se", cond)]
        rows = {}
        for row in self.orr.frrc["per_reader"].to_dict(orient="records"):
            if row["a"] == a:
                row = flip(row)
            rows[row["reader"]] = row
        for key, col in (
            ("estimate", "diff"),
            ("se", "diff_se"),
            ("ci_low", "diff_ci_low"),
            ("ci_high", "diff_ci_high"),
            ("stat", "z"),
            ("p", "p"),
        ):
            out[col] = [rows[r][key] for r in out.index]
        return out.reset_index()

    def per_condition(self) -> pd.DataFrame:
        rows = []
        for cond, r in self.orr.rrrc["single"].set_index("modality").iterrows():
            f = self.orr.frrc["single"].set_index("modality").loc[cond]
            rows.append(
                {
                    "condition": cond,
                    "estimate": r["estimate"],
                    "se_rrrc": r["se"],
                    "df_rrrc": r["df"],
                    "ci_low_rrrc": r["ci_low"],
                    "ci_high_rrrc": r["ci_high"],
                    "se_frrc": f["se"],
                    "ci_low_frrc": f["ci_low"],
                    "ci_high_frrc": f["ci_high"],
                }
            )
        return pd.DataFrame(rows)

    def to_dict(self, copy_: bool = True) -> dict[str, Any]:
        """The JSON entry (computed once). ``copy_=False`` returns the cached dict itself, for
        callers that only read it (do not modify it)."""
        if "dict" not in self._cache:
            self._cache["dict"] = self._to_dict()
        cached: dict[str, Any] = self._cache["dict"]
        return copy.deepcopy(cached) if copy_ else cached

    def _pairwise_rows(self, analysis: OrAnalysis | DbmAnalysis, name: str) -> list[dict[str, Any]]:
        stat = "z" if name == "frrc" and analysis is self.orr else "t"
        out: list[dict[str, Any]] = []
        for a, b in self.pairs:
            row = pairwise_difference(getattr(analysis, name)["pairwise"], b, a)
            out.append(
                {
                    "comparison": f"{b} - {a}",
                    "diff": row["estimate"],
                    "se": row["se"],
                    "df": None if stat == "z" else row["df"],
                    stat: row["stat"],
                    "p": row["p"],
                    "ci_low": row["ci_low"],
                    "ci_high": row["ci_high"],
                }
            )
        return out

    def _to_dict_multi(self) -> dict[str, Any]:
        """Three or more conditions: each analysis's overall test and every pairwise
        difference (``pairwise``: b - a for a listed before b)."""
        c = self.orr.components
        orr, dbm = self.orr, self.dbm
        return {
            "fom": self.fom,
            "comparison": "overall",
            "comparisons": [f"{b} - {a}" for a, b in self.pairs],
            "conditions": list(self.conditions),
            "covariance": self.cov_method,
            "jackknife_cases": self.jackknife_cases,
            "n_readers": len(self.data.readers),
            "n_cases_jackknifed": self.n_cases,
            "means": orr.means(),
            "or_rrrc": {
                "F": orr.rrrc["F"],
                "df1": orr.rrrc["df1"],
                "ddf": orr.rrrc["ddf"],
                "p": orr.rrrc["p"],
                "pairwise": self._pairwise_rows(orr, "rrrc"),
            },
            "or_frrc": {
                "X2": orr.frrc["X2"],
                "df": orr.frrc["df"],
                "p": orr.frrc["p"],
                "pairwise": self._pairwise_rows(orr, "frrc"),
            },
            "or_rrfc": {
                "F": orr.rrfc["F"],
                "df1": orr.rrfc["df1"],
                "ddf": orr.rrfc["ddf"],
                "p": orr.rrfc["p"],
                "pairwise": self._pairwise_rows(orr, "rrfc"),
            },
            "dbm_rrrc": {
                "F": dbm.rrrc["F"],
                "ddf": dbm.rrrc["ddf"],
                "p": dbm.rrrc["p"],
                "pairwise": self._pairwise_rows(dbm, "rrrc"),
            },
            "dbm_frrc": {
                "F": dbm.frrc["F"],
                "ddf": dbm.frrc["ddf"],
                "p": dbm.frrc["p"],
                "pairwise": self._pairwise_rows(dbm, "frrc"),
            },
            "or_components": {
                "var_r": c.var_r,
                "var_tr": c.var_tr,
                "var_error": c.var,
                "cov1": c.cov1,
                "cov2": c.cov2,
                "cov3": c.cov3,
                "ms_t": c.ms_t,
                "ms_r": c.ms_r,
                "ms_tr": c.ms_tr,
            },
            "dbm_components": dict(dbm.var_components),
            "per_condition": self.per_condition().to_dict(orient="records"),
            "per_reader": self.per_reader().to_dict(orient="records"),
        }

    def _to_dict(self) -> dict[str, Any]:
        if len(self.conditions) != 2:
            return self._to_dict_multi()
        c = self.orr.components
        a, b = self.conditions
        out: dict[str, Any] = {
            "fom": self.fom,
            "comparison": f"{b} - {a}",
            "covariance": self.cov_method,
            "jackknife_cases": self.jackknife_cases,
            "n_readers": len(self.data.readers),
            "n_cases_jackknifed": self.n_cases,
            "means": self.orr.means(),
            "or_rrrc": {
                "F": self.orr.rrrc["F"],
                "df1": self.orr.rrrc["df1"],
                "ddf": self.orr.rrrc["ddf"],
                **self._diff(self.orr, "rrrc"),
            },
            "or_frrc": {
                "X2": self.orr.frrc["X2"],
                "df": self.orr.frrc["df"],
                **self._diff(self.orr, "frrc"),
            },
            "or_rrfc": {
                "F": self.orr.rrfc["F"],
                "df1": self.orr.rrfc["df1"],
                "ddf": self.orr.rrfc["ddf"],
                **self._diff(self.orr, "rrfc"),
            },
            "dbm_rrrc": {
                "F": self.dbm.rrrc["F"],
                "ddf": self.dbm.rrrc["ddf"],
                **self._diff(self.dbm, "rrrc"),
            },
            "dbm_frrc": {
                "F": self.dbm.frrc["F"],
                "ddf": self.dbm.frrc["ddf"],
                **self._diff(self.dbm, "frrc"),
            },
            "or_components": {
                "var_r": c.var_r,
                "var_tr": c.var_tr,
                "var_error": c.var,
                "cov1": c.cov1,
                "cov2": c.cov2,
                "cov3": c.cov3,
                "ms_t": c.ms_t,
                "ms_r": c.ms_r,
                "ms_tr": c.ms_tr,
            },
            "dbm_components": dict(self.dbm.var_components),
            "per_condition": self.per_condition().to_dict(orient="records"),
            "per_reader": self.per_reader().to_dict(orient="records"),
        }
        # the test statistic of the pairwise rows is a t (RRRC, RRFC, DBM) or a z (FRRC)
        for key in ("or_rrrc", "or_rrfc", "dbm_rrrc", "dbm_frrc"):
            out[key]["t"] = out[key].pop("stat")
        out["or_frrc"]["z"] = out["or_frrc"].pop("stat")
        return out


def mrmc_analysis(
    reads: pd.DataFrame,
    fom: str = "auc",
    conditions: tuple[str, ...] = ("unaided", "aided"),
    cov: str = "jackknife",
    jackknife_cases: str = "truth_class",
    level: float = 0.95,
) -> MrmcResult:
    data = fom_from_reads(ensure_valid(reads), fom, list(conditions), jackknife_cases)
    orr = or_analysis(data, cov, level)
    dbm = dbm_analysis(data, level)
    return MrmcResult(fom, tuple(conditions), cov, jackknife_cases, data, orr, dbm)


def delong_per_reader(
    reads: pd.DataFrame,
    conditions: tuple[str, str] = ("unaided", "aided"),
    level: float = 0.95,
    *,
    wide: tuple[np.ndarray, np.ndarray, list[str]] | None = None,
) -> pd.DataFrame:
    """Paired DeLong test per reader on ``rating``; diff = AUC(b) - AUC(a). ``wide``: the
    ratings already as (values (2, r, n), truth, readers) for these two conditions."""
    if wide is None:
        values, truth, readers, _ = wide_arrays(ensure_valid(reads), list(conditions), "rating")
    else:
        values, truth, readers = wide
    r = len(readers)
    # delong_paired for every reader at once: the structural components of all 2r rating rows
    comp = delong_components(truth, values.reshape(2 * r, -1))

    def cov(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        m = x.shape[1]
        if m < 2:
            zero = np.zeros(r)
            return zero, zero, zero
        d = x - x.mean(axis=1, keepdims=True)
        a, b = d[:r], d[r:]
        return (
            (a * a).sum(1) / (m - 1) / m,
            (b * b).sum(1) / (m - 1) / m,
            (a * b).sum(1) / (m - 1) / m,
        )

    v1a, v2a, c12a = cov(comp.v10)
    v1b, v2b, c12b = cov(comp.v01)
    var1, var2, cov12 = v1a + v1b, v2a + v2b, c12a + c12b
    auc1, auc2 = comp.auc[:r], comp.auc[r:]
    diff = auc2 - auc1
    se = np.sqrt(np.maximum(var1 + var2 - 2 * cov12, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.copysign(np.inf, diff))
    z = np.where((se <= 0) & (diff == 0), 0.0, z)
    q = stats.norm.ppf(0.5 + level / 2)
    return pd.DataFrame(
        {
            "reader": list(readers),
            f"auc_{conditions[0]}": auc1,
            f"auc_{conditions[1]}": auc2,
            "diff": diff,
            "se": se,
            "z": z,
            "p": 2 * stats.norm.sf(np.abs(z)),
            "ci_low": diff - q * se,
            "ci_high": diff + q * se,
            f"var_{conditions[0]}": var1,
            f"var_{conditions[1]}": var2,
            "cov": cov12,
        }
    )
