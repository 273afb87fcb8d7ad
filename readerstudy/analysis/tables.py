"""Seed-000 Table 3 from the reader mixed models, plus small formatting helpers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .conditions import MODEL
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


def _contrast(contrasts: dict[str, Any], a: str, b: str, family: str) -> tuple[str, Any]:
    """The ``b - a`` contrast (the GLMM's is an odds ratio, ``b / a``)."""
    name = f"{b} / {a}" if family == "binomial" else f"{b} - {a}"
    return name, contrasts.get(name)


def table3_sections(lmm: ReaderLmm) -> list[tuple[str, str, str, str, str]]:
    """(section title, condition whose mean is shown, earlier condition a, later condition b,
    fit key) for each contrast b - a of the table, seed 000's two sections first: the model
    against the reference (showing the reference's mean), then each reader condition against
    the reference; every other pair too when the fits were pairwise over all pairs."""
    ref = lmm.reference
    seen: dict[tuple[str, str], None] = {}
    sep = " / " if lmm.family == "binomial" else " - "
    for d in lmm.endpoints.values():
        for name in d["contrasts"]:
            b, _, a = name.partition(sep)
            seen.setdefault((a, b), None)
    pairs = [(a, b) for a, b in seen if a == ref or lmm.contrasts == "pairwise"]
    pairs.sort(key=lambda ab: (ab[0] != ref, ab[1] != MODEL))
    out = []
    for a, b in pairs:
        if a == ref and b == MODEL:
            title = (
                TABLE3_SECTIONS[0][0]
                if ref == "unaided"
                else f"Readers {ref}, compared with the model alone"
            )
            out.append((title, ref, a, b, f"{b}_vs_{a}"))
        elif (a, b) == ("unaided", "aided"):
            out.append((TABLE3_SECTIONS[1][0], b, a, b, f"{b}_vs_{a}"))
        else:
            out.append((f"Readers {b}, compared with readers {a}", b, a, b, f"{b}_vs_{a}"))
    return out


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
    for section, cond, a, b, fitkey in table3_sections(lmm):
        for ep, d in lmm.endpoints.items():
            contrast, diff = _contrast(d["contrasts"], a, b, lmm.family)
            if diff is None:
                continue
            fit = d["fits"].get(fitkey) or d["fits"].get("joint")
            if fit is None or cond not in fit.emmeans:
                continue
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
