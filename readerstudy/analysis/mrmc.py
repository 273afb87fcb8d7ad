"""MRMC analysis of a read table: FOMs, OR (with the chosen covariance) and DBM, per-reader
DeLong tests, as plain dicts/DataFrames. Differences are ``b - a`` for ``conditions=(a, b)``,
i.e. aided - unaided by default."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import pandas as pd

from .delong import delong_paired
from .fom import FomData, fom_from_reads, wide_arrays
from .mrmc_dbm import DbmAnalysis, dbm_analysis
from .mrmc_or import OrAnalysis, flip, or_analysis, pairwise_difference
from .reads import ensure_valid


@dataclass
class MrmcResult:
    fom: str
    conditions: tuple[str, str]
    cov_method: str
    jackknife_cases: str
    data: FomData
    orr: OrAnalysis
    dbm: DbmAnalysis
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_cases(self) -> int:
        return int(self.data.jack.shape[2])

    def _diff(self, analysis: OrAnalysis | DbmAnalysis, name: str) -> dict:
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

    def per_reader(self) -> pd.DataFrame:
        if "per_reader" not in self._cache:
            self._cache["per_reader"] = self._per_reader()
        return self._cache["per_reader"].copy()

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

    def to_dict(self) -> dict:
        if "dict" not in self._cache:
            self._cache["dict"] = self._to_dict()
        return copy.deepcopy(self._cache["dict"])

    def _to_dict(self) -> dict:
        c = self.orr.components
        a, b = self.conditions
        out = {
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
    conditions: tuple[str, str] = ("unaided", "aided"),
    cov: str = "jackknife",
    jackknife_cases: str = "truth_class",
    level: float = 0.95,
) -> MrmcResult:
    data = fom_from_reads(ensure_valid(reads), fom, list(conditions), jackknife_cases)
    orr = or_analysis(data, cov, level)
    dbm = dbm_analysis(data, level)
    return MrmcResult(fom, tuple(conditions), cov, jackknife_cases, data, orr, dbm)


def delong_per_reader(
    reads: pd.DataFrame, conditions: tuple[str, str] = ("unaided", "aided"), level: float = 0.95
) -> pd.DataFrame:
    """Paired DeLong test per reader on ``rating``; diff = AUC(b) - AUC(a)."""
    values, truth, readers, _ = wide_arrays(ensure_valid(reads), list(conditions), "rating")
    rows = []
    for j, reader in enumerate(readers):
        res = delong_paired(truth, values[0, j], values[1, j], level)
        rows.append(
            {
                "reader": reader,
                f"auc_{conditions[0]}": res.auc1,
                f"auc_{conditions[1]}": res.auc2,
                "diff": res.diff,
                "se": res.se,
                "z": res.z,
                "p": res.p,
                "ci_low": res.ci_low,
                "ci_high": res.ci_high,
                f"var_{conditions[0]}": res.var1,
                f"var_{conditions[1]}": res.var2,
                "cov": res.cov12,
            }
        )
    return pd.DataFrame(rows)
