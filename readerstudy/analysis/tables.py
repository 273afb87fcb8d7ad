"""Seed-000 Table 3 from the reader mixed models, plus small formatting helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .lmm import ReaderLmm
from .performance import fmt_ci

# (section as a person writes it, condition whose mean is shown, compared condition, fit key)
TABLE3_SECTIONS = (
    ("Readers without the model, compared with the model alone", "unaided", "model", "model_vs_unaided"),
    ("Readers with the model, compared with reading without it", "aided", "aided", "aided_vs_unaided"),
)  # fmt: skip
OUTSIDE_UNIT = "\u2020"  # dagger: an interval reaching outside [0, 1]


def fmt_p(p: float | None) -> str:
    if p is None or not np.isfinite(p):
        return "NA"
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def _contrast(contrasts: dict, other: str, family: str):
    """The compared-minus-reference contrast (the GLMM's is an odds ratio, ``a / b``)."""
    name = f"{other} / unaided" if family == "binomial" else f"{other} - unaided"
    return name, contrasts.get(name)


def _outside_unit(lo: float, hi: float) -> bool:
    return bool(np.isfinite(lo) and np.isfinite(hi) and (lo < 0 or hi > 1))


def table3(lmm: ReaderLmm, digits: int = 4) -> pd.DataFrame:
    """Average reader performance [CI] | difference [CI] | p, per endpoint, in two sections.

    Pairwise mode: the first section's unaided mean comes from the model-vs-unaided fit and the
    second's aided mean from the aided-vs-unaided fit (each row's numbers come from one fit).
    For a logistic GLMM (``family="binomial"``) the means are probabilities and the
    "difference" is the odds ratio. ``ci_outside_unit`` flags a mean whose interval reaches
    outside [0, 1] (the linear model treats correctness as continuous), marked with a dagger.
    """
    rows = []
    for section, cond, other, fitkey in TABLE3_SECTIONS:
        for ep, d in lmm.endpoints.items():
            contrast, diff = _contrast(d["contrasts"], other, lmm.family)
            if diff is None:
                continue
            fit = d["fits"].get(fitkey) or d["fits"].get("joint")
            perf = fit.emmeans[cond]
            outside = _outside_unit(perf.ci_low, perf.ci_high)
            rows.append(
                {
                    "section": section,
                    "endpoint": ep,
                    "condition": cond,
                    "contrast": contrast,
                    "model": "logistic GLMM" if lmm.family == "binomial" else "LMM",
                    "performance": perf.estimate,
                    "perf_ci_low": perf.ci_low,
                    "perf_ci_high": perf.ci_high,
                    "difference": diff.estimate,
                    "diff_ci_low": diff.ci_low,
                    "diff_ci_high": diff.ci_high,
                    "df": diff.df,
                    "p": diff.p,
                    "ci_outside_unit": outside,
                    "performance_display": fmt_ci(perf.estimate, perf.ci_low, perf.ci_high, digits)
                    + (OUTSIDE_UNIT if outside else ""),
                    "difference_display": fmt_ci(diff.estimate, diff.ci_low, diff.ci_high, digits),
                    "p_display": fmt_p(diff.p),
                }
            )
    return pd.DataFrame(rows)
