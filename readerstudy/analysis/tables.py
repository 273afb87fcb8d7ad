"""Seed-000 Table 3 from the reader mixed models, plus small formatting helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .lmm import ReaderLmm
from .performance import fmt_ci

TABLE3_SECTIONS = (
    (
        "Without model assistance (vs classification model)",
        "unaided",
        "model - unaided",
        "model_vs_unaided",
    ),
    (
        "With model assistance (vs without assistance)",
        "aided",
        "aided - unaided",
        "aided_vs_unaided",
    ),
)


def fmt_p(p: float | None) -> str:
    if p is None or not np.isfinite(p):
        return "NA"
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def table3(lmm: ReaderLmm, digits: int = 4) -> pd.DataFrame:
    """Average reader performance [CI] | difference [CI] | p, per endpoint, in two sections.

    Pairwise mode: the first section's unaided mean comes from the model-vs-unaided fit and the
    second's aided mean from the aided-vs-unaided fit (each row's numbers come from one fit).
    """
    rows = []
    for section, cond, contrast, fitkey in TABLE3_SECTIONS:
        for ep, d in lmm.endpoints.items():
            if contrast not in d["contrasts"]:
                continue
            fit = d["fits"].get(fitkey) or d["fits"].get("joint")
            perf = fit.emmeans[cond]
            diff = d["contrasts"][contrast]
            rows.append(
                {
                    "section": section,
                    "endpoint": ep,
                    "condition": cond,
                    "contrast": contrast,
                    "performance": perf.estimate,
                    "perf_ci_low": perf.ci_low,
                    "perf_ci_high": perf.ci_high,
                    "difference": diff.estimate,
                    "diff_ci_low": diff.ci_low,
                    "diff_ci_high": diff.ci_high,
                    "df": diff.df,
                    "p": diff.p,
                    "performance_display": fmt_ci(perf.estimate, perf.ci_low, perf.ci_high, digits),
                    "difference_display": fmt_ci(diff.estimate, diff.ci_low, diff.ci_high, digits),
                    "p_display": fmt_p(diff.p),
                }
            )
    return pd.DataFrame(rows)
