"""The report's words: its header, footnotes and the explanations of degenerate results.

Shared by the Markdown and HTML renderings so that both say the same thing.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .tables import OUTSIDE_UNIT

MRMC_ANALYSES = {
    "or_rrrc": "Obuchowski-Rockette, random readers and cases",
    "or_frrc": "Obuchowski-Rockette, fixed readers, random cases",
    "or_rrfc": "Obuchowski-Rockette, random readers, fixed cases",
    "dbm_rrrc": "Dorfman-Berbaum-Metz, random readers and cases",
}
FOMS = {
    "auc": "AUC",
    "sensitivity": "sensitivity",
    "specificity": "specificity",
    "accuracy": "accuracy",
}


def header_lines(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs for the top of the report: what was analysed, when, with what."""
    study = meta.get("study") or {}
    lines = []
    for key, label in (
        ("title", "Study"),
        ("design", "Design"),
        ("endpoint", "Endpoint"),
        ("model_version", "Model version"),
        ("operating_point", "Model operating point"),
        ("truth", "Ground truth"),
        ("opened_at", "Opened"),
        ("closed_at", "Closed"),
    ):
        if study.get(key):
            lines.append((label, str(study[key])))
    if meta.get("endpoints"):
        lines.append(
            (
                "Endpoints",
                f"{', '.join(meta['endpoints'])}; the tables before 'Endpoints' show "
                f"{meta['primary_endpoint']!r}",
            )
        )
    lines.append(("Report created", str(meta["created"])))
    lines.append(
        (
            "Data",
            f"{meta['n_readers']} readers, {meta['n_cases']} cases "
            f"({meta['n_positive_cases']} positive), {meta['n_reads']} reads; "
            f"conditions: {', '.join(meta['conditions'])}",
        )
    )
    software = meta.get("software") or {}
    lines.append(("Software", ", ".join(f"{k} {v}" for k, v in software.items())))
    return lines


def table3_footnotes(table3: pd.DataFrame | None, has_glmm: bool) -> list[str]:
    if table3 is None or "ci_outside_unit" not in table3 or not table3["ci_outside_unit"].any():
        return []
    glmm = (
        "The logistic mixed model's rows below keep every interval within [0, 1]."
        if has_glmm
        else "A logistic mixed model keeps intervals within [0, 1]: request it with the report "
        "option extra_models = glmm (it needs R with lme4)."
    )
    return [
        f"{OUTSIDE_UNIT} The linear mixed model treats each read's correctness as a continuous "
        "outcome, so with few readers or cases its confidence interval for a proportion can "
        f"reach below 0 or above 1. {glmm}"
    ]


def _finite(v: object) -> bool:
    return v is not None and isinstance(v, int | float) and math.isfinite(v)


def mrmc_explanations(mrmc: dict[str, Any]) -> list[str]:
    """Plain words for MRMC results that have no test: a zero standard error or infinite df."""
    out = []
    for fom, result in mrmc.items():
        d = result.to_dict()
        name = FOMS.get(fom, fom)
        rrrc = d["or_rrrc"]
        se, ddf = rrrc.get("se"), rrrc.get("ddf")
        if _finite(se) and se == 0:
            out.append(
                f"{name}: the difference between the conditions is the same for every reader "
                "and every case (for example, all readers agree on every case in both "
                "conditions), so it has no variance: the standard error is 0 and no confidence "
                "interval or p value can be computed."
            )
        elif ddf is not None and not _finite(ddf):
            out.append(
                f"{name}: the reader-by-condition variance is estimated as 0 or less, so the "
                "denominator degrees of freedom are infinite and the test is a normal "
                "approximation."
            )
    return out
