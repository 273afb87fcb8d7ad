"""Model performance as in seed 000 Table 2: ROC, AUC with percentile-bootstrap and DeLong CIs,
and confusion metrics with bootstrap CIs at operating points chosen by rules."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .bootstrap import bootstrap_performance
from .delong import delong_ci
from .metrics import METRICS
from .operating_points import OperatingPoint, select_operating_point
from .roc import RocCurve, roc_curve

METRIC_LABELS = {
    "accuracy": "Accuracy",
    "sensitivity": "Sensitivity",
    "specificity": "Specificity",
    "ppv": "PPV",
    "npv": "NPV",
    "f1": "F1",
    "mcc": "MCC",
}


@dataclass
class ModelPerformance:
    n_pos: int
    n_neg: int
    auc: float
    auc_ci_bootstrap: tuple[float, float]
    auc_delong: dict[str, Any]  # estimate, se, ci_low, ci_high (floats) and method
    points: dict[str, OperatingPoint]
    point_cis: dict[str, dict[str, tuple[float, float]]]
    bootstrap: dict[str, Any] = field(default_factory=dict)
    roc: RocCurve | None = None

    def to_dict(self) -> dict[str, Any]:
        pts = {}
        for name, op in self.points.items():
            m = op.metrics
            pts[name] = {
                "rule": op.rule,
                "threshold": op.threshold,
                "confusion": asdict(op.confusion),
                "metrics": {
                    k: {
                        "estimate": m[k],
                        "ci_low": self.point_cis[name][k][0],
                        "ci_high": self.point_cis[name][k][1],
                    }
                    for k in METRICS
                },
            }
        return {
            "n_pos": self.n_pos,
            "n_neg": self.n_neg,
            "auc": {
                "estimate": self.auc,
                "ci_low": self.auc_ci_bootstrap[0],
                "ci_high": self.auc_ci_bootstrap[1],
                "method": "percentile bootstrap",
            },
            "auc_delong": self.auc_delong,
            "operating_points": pts,
            "bootstrap": self.bootstrap,
        }


def model_performance(
    truth: npt.ArrayLike,
    score: npt.ArrayLike,
    rules: tuple[str, ...] = ("high_sensitivity", "high_specificity"),
    n_bootstrap: int = 1000,
    seed: int = 2025,
    stratified: bool = True,
    level: float = 0.95,
    clusters: np.ndarray | list[str] | None = None,
) -> ModelPerformance:
    """ROC, AUC (bootstrap and DeLong CIs) and the metrics at each rule's operating point.
    ``clusters`` (e.g. the case of each slice) makes the bootstrap resample whole clusters; the
    DeLong CI then still treats the units as independent."""
    truth = np.asarray(truth).astype(int)
    score = np.asarray(score, dtype=float)
    curve = roc_curve(truth, score)
    points = {rule: select_operating_point(truth, score, rule) for rule in rules}
    boot = bootstrap_performance(
        truth,
        score,
        {k: p.decisions(score) for k, p in points.items()},
        n_resamples=n_bootstrap,
        seed=seed,
        stratified=stratified,
        level=level,
        clusters=clusters,
    )
    delong: dict[str, Any] = delong_ci(truth, score, level)
    delong["method"] = "DeLong" if clusters is None else "DeLong (units treated as independent)"
    return ModelPerformance(
        n_pos=curve.n_pos,
        n_neg=curve.n_neg,
        auc=curve.auc,
        auc_ci_bootstrap=boot["auc"],
        auc_delong=delong,
        points=points,
        point_cis=boot["points"],
        bootstrap={
            "n_resamples": n_bootstrap,
            "seed": seed,
            "stratified": stratified,
            "level": level,
            "interval": "percentile",
            "thresholds": "fixed at the full-data operating points",
            **({} if clusters is None else {"resampled": "cases (all slices of a drawn case)"}),
        },
        roc=curve,
    )


def fmt_num(v: float | np.floating[Any] | None, digits: int = 4) -> str:
    """Fixed digits, "NA" for a missing value, never "-0.0000" for a value that rounds to 0."""
    if v is None or np.isnan(v):
        return "NA"
    if np.isinf(v):
        return "\u221e" if v > 0 else "-\u221e"
    text = f"{v:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def fmt_ci(est: float, lo: float, hi: float, digits: int = 4) -> str:
    if est is None or not np.isfinite(est):
        return "NA"
    return f"{fmt_num(est, digits)} [{fmt_num(lo, digits)}, {fmt_num(hi, digits)}]"


def table2(perf: ModelPerformance, digits: int = 4) -> pd.DataFrame:
    """Seed-000 Table 2 layout as a long DataFrame (one row per line of the table)."""
    rows = [
        {
            "section": "",
            "item": "AUC",
            "estimate": perf.auc,
            "ci_low": perf.auc_ci_bootstrap[0],
            "ci_high": perf.auc_ci_bootstrap[1],
            "display": fmt_ci(perf.auc, *perf.auc_ci_bootstrap, digits),
        },
        {
            "section": "",
            "item": "AUC (DeLong CI)",
            "estimate": perf.auc,
            "ci_low": perf.auc_delong["ci_low"],
            "ci_high": perf.auc_delong["ci_high"],
            "display": fmt_ci(
                perf.auc, perf.auc_delong["ci_low"], perf.auc_delong["ci_high"], digits
            ),
        },
    ]
    for name, op in perf.points.items():
        c = op.confusion
        rows.append(
            {
                "section": op.rule,
                "item": "Threshold",
                "estimate": op.threshold,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "display": f"{op.threshold:.6g}",
            }
        )
        rows.append(
            {
                "section": op.rule,
                "item": "Predicted positive (in positives / negatives)",
                "estimate": np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "display": f"{c.tp} / {c.fp}",
            }
        )
        m = op.metrics
        for k in METRICS:
            lo, hi = perf.point_cis[name][k]
            rows.append(
                {
                    "section": op.rule,
                    "item": METRIC_LABELS[k],
                    "estimate": m[k],
                    "ci_low": lo,
                    "ci_high": hi,
                    "display": fmt_ci(m[k], lo, hi, digits),
                }
            )
    return pd.DataFrame(rows)
