"""MRMC analysis of FROC / LROC studies: a FROC figure of merit through the existing
Obuchowski-Rockette (:mod:`.mrmc_or`) and DBM (:mod:`.mrmc_dbm`) code.

The FOM and its case-jackknife values come from :mod:`.froc_fom`; everything else - the OR
variance components, Hillis ddf, RRRC / FRRC / RRFC tests and CIs, the DBM ANOVA of
pseudovalues - is the ROC code unchanged, so the FROC results follow the same conventions
(differences ``a - b`` for modalities a listed before b, as RJafroc's ``trt1-trt2``).

Variance components: ``varcomp="readerstudy"`` (default) reports the unclipped ANOVA estimate
Var(TR) = MS(TR) - Var + Cov1 + Cov2 - Cov3 as the ROC code does; ``"rjafroc"`` reports
RJafroc's Var(TR) = MS(TR) - Var + Cov1 + max(Cov2 - Cov3, 0) and the Var(R) that follows from
it. The tests do not depend on this choice (their error terms clip Cov2 - Cov3 at 0 either way).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .fom import FomData
from .froc_fom import check_fom, default_fom, froc_fom_data
from .froc_io import FrocDataset
from .mrmc_dbm import DbmAnalysis, dbm_analysis
from .mrmc_or import OrAnalysis, or_analysis

METHODS = ("OR", "DBM")
VARCOMP = ("readerstudy", "rjafroc")


def clean(obj: Any) -> Any:
    """JSON-ready copy: numpy scalars to Python, NaN/inf to None."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return clean(obj.tolist())
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        x = float(obj)
        return x if math.isfinite(x) else None
    return obj


def _diffs(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "contrast": str(r["comparison"]),
            "estimate": float(r["estimate"]),
            "se": float(r["se"]),
            "df": float(r["df"]),
            "stat": float(r["stat"]),
            "ci_low": float(r["ci_low"]),
            "ci_high": float(r["ci_high"]),
            "p": float(r["p"]),
        }
        for r in table.to_dict(orient="records")
    ]


def _single(table: pd.DataFrame) -> list[dict[str, Any]]:
    keep = ("modality", "estimate", "se", "df", "ci_low", "ci_high")
    return [{k: r[k] for k in keep if k in r} for r in table.to_dict(orient="records")]


@dataclass
class FrocAnalysis:
    dataset: FrocDataset
    fom: str
    fpf_value: float
    method: str
    varcomp: str
    level: float
    data: FomData
    orr: OrAnalysis
    dbm: DbmAnalysis | None

    def foms(self) -> dict[str, dict[str, float]]:
        return {
            m: {r: float(self.data.theta[i, j]) for j, r in enumerate(self.data.readers)}
            for i, m in enumerate(self.data.modalities)
        }

    def var_components(self) -> dict[str, float]:
        c = self.orr.components
        var_tr, var_r = c.var_tr, c.var_r
        if self.varcomp == "rjafroc":
            t = len(self.data.modalities)
            var_tr = c.ms_tr - c.var + c.cov1 + max(c.cov2 - c.cov3, 0.0)
            var_r = (c.ms_r - c.var - (t - 1) * c.cov1 + c.cov2 + (t - 1) * c.cov3 - var_tr) / t
        return {
            "var_r": float(var_r),
            "var_tr": float(var_tr),
            "cov1": c.cov1,
            "cov2": c.cov2,
            "cov3": c.cov3,
            "var_error": c.var,
        }

    def to_dict(self) -> dict[str, Any]:
        """The ``froc`` block of ``report.json``."""
        o = self.orr
        c = o.components
        t = len(self.data.modalities)
        out: dict[str, Any] = {
            "paradigm": self.dataset.paradigm,
            "fom_name": self.fom,
            "fpf_value": self.fpf_value if self.fom in ("PCL", "ALROC") else None,
            "method": self.method,
            "covariance": "jackknife",
            "varcomp_convention": self.varcomp,
            "level": self.level,
            "n_modalities": t,
            "n_readers": len(self.data.readers),
            "n_normal_cases": self.dataset.k1,
            "n_diseased_cases": self.dataset.k2,
            "n_lesions": int(self.dataset.lesions_per_case.sum()),
            "n_jackknifed_cases": self.data.n_jack,
            "modalities": list(self.data.modalities),
            "readers": list(self.data.readers),
            "fom": self.foms(),
            "means": o.means(),
            "or_rrrc": {
                "F": o.rrrc["F"],
                "df1": o.rrrc["df1"],
                "ddf": o.rrrc["ddf"],
                "p": o.rrrc["p"],
                "error_term": o.rrrc["error_term"],
                "diffs": _diffs(o.rrrc["pairwise"]),
                "single": _single(o.rrrc["single"]),
            },
            "or_frrc": {
                "X2": o.frrc["X2"],
                "F": o.frrc["X2"] / (t - 1),
                "df1": t - 1,
                "ddf": None,
                "p": o.frrc["p"],
                "error_term": o.frrc["error_term"],
                "diffs": _diffs(o.frrc["pairwise"]),
                "single": _single(o.frrc["single"]),
            },
            "or_rrfc": {
                "F": o.rrfc["F"],
                "df1": o.rrfc["df1"],
                "ddf": o.rrfc["ddf"],
                "p": o.rrfc["p"],
                "diffs": _diffs(o.rrfc["pairwise"]),
                "single": _single(o.rrfc["single"]),
            },
            "var_components": self.var_components(),
            "or_mean_squares": {"ms_t": c.ms_t, "ms_r": c.ms_r, "ms_tr": c.ms_tr},
        }
        if self.dbm is not None:
            d = self.dbm
            for name in ("rrrc", "frrc", "rrfc"):
                block = getattr(d, name)
                out[f"dbm_{name}"] = {
                    "F": block["F"],
                    "df1": block["df1"],
                    "ddf": block["ddf"],
                    "p": block["p"],
                    "diffs": _diffs(block["pairwise"]),
                }
            out["dbm_var_components"] = dict(d.var_components)
            out["dbm_mean_squares"] = {k: d.ms[k] for k in ("T", "R", "C", "TR", "TC", "RC", "TRC")}
        cleaned: dict[str, Any] = clean(out)
        return cleaned


def froc_analysis(
    ds: FrocDataset,
    fom: str | None = None,
    method: str = "OR",
    fpf_value: float = 0.2,
    level: float = 0.95,
    varcomp: str = "readerstudy",
) -> FrocAnalysis:
    """OR analysis (always) and DBM (``method="DBM"``) of ``fom`` (default: wAFROC for FROC,
    Wilcoxon for LROC data), jackknife covariances."""
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"method must be OR or DBM, not {method!r}")
    if varcomp not in VARCOMP:
        raise ValueError(f"varcomp must be one of {VARCOMP}, not {varcomp!r}")
    fom = fom or default_fom(ds.paradigm)
    check_fom(ds.paradigm, fom)
    if len(ds.modalities) < 2 or len(ds.readers) < 2:
        raise ValueError(
            f"OR/DBM analysis needs at least 2 modalities and 2 readers (found "
            f"{len(ds.modalities)} and {len(ds.readers)})"
        )
    data = froc_fom_data(ds, fom, fpf_value)
    orr = or_analysis(data, "jackknife", level)
    dbm = dbm_analysis(data, level) if method == "DBM" else None
    return FrocAnalysis(ds, fom, fpf_value, method, varcomp, level, data, orr, dbm)
