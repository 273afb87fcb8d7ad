"""Descriptive reader tables: per reader x condition metrics, pooled counts, group mean +- SD."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import METRICS, confusion_metrics
from .reads import natural_sorted
from .roc import empirical_auc

CONDITION_ORDER = ("unaided", "aided", "model")


def _conditions(reads: pd.DataFrame) -> list[str]:
    return [c for c in CONDITION_ORDER if c in set(reads["condition"])]


def per_reader_metrics(reads: pd.DataFrame) -> pd.DataFrame:
    """One row per reader x condition: counts, the seven metrics, binary AUC = (Se + Sp)/2
    (seed 002 convention) and the empirical AUC of ``rating`` where every read has one."""
    r = reads.assign(
        tp=(reads["truth"] == 1) & (reads["decision"] == 1),
        fn=(reads["truth"] == 1) & (reads["decision"] == 0),
        fp=(reads["truth"] == 0) & (reads["decision"] == 1),
        tn=(reads["truth"] == 0) & (reads["decision"] == 0),
    )
    g = r.groupby(["condition", "reader"], sort=False)[["tp", "fn", "fp", "tn"]].sum()
    g = g.reset_index()
    m = confusion_metrics(g["tp"], g["fn"], g["fp"], g["tn"])
    for k in METRICS:
        g[k] = m[k]
    g["n"] = g[["tp", "fn", "fp", "tn"]].sum(axis=1)
    g["auc_binary"] = (g["sensitivity"] + g["specificity"]) / 2
    aucs = {}
    for (cond, reader), sub in reads.groupby(["condition", "reader"], sort=False):
        ok = sub["rating"].notna().all() and sub["truth"].nunique() == 2
        aucs[(cond, reader)] = empirical_auc(sub["truth"], sub["rating"]) if ok else np.nan
    g["auc_rating"] = [aucs[(c, rd)] for c, rd in zip(g["condition"], g["reader"], strict=True)]
    order = {c: i for i, c in enumerate(CONDITION_ORDER)}
    readers = {rd: i for i, rd in enumerate(natural_sorted(g["reader"]))}
    g = g.sort_values(
        by=["condition", "reader"],
        key=lambda s: s.map(order) if s.name == "condition" else s.map(readers),
    )
    cols = [
        "condition",
        "reader",
        "n",
        "tp",
        "fn",
        "fp",
        "tn",
        *METRICS,
        "auc_binary",
        "auc_rating",
    ]
    return g[cols].reset_index(drop=True)


def pooled_counts(reads: pd.DataFrame) -> pd.DataFrame:
    """Per condition: correct / reads, TP / positive reads, TN / negative reads."""
    rows = []
    for cond in _conditions(reads):
        s = reads[reads["condition"] == cond]
        pos, neg = s[s["truth"] == 1], s[s["truth"] == 0]
        rows.append(
            {
                "condition": cond,
                "reads": len(s),
                "correct": int(s["correct"].sum()),
                "positive_reads": len(pos),
                "tp": int(pos["decision"].sum()),
                "negative_reads": len(neg),
                "tn": int((1 - neg["decision"]).sum()),
                "accuracy": s["correct"].mean(),
                "sensitivity": pos["decision"].mean() if len(pos) else np.nan,
                "specificity": (1 - neg["decision"]).mean() if len(neg) else np.nan,
            }
        )
    return pd.DataFrame(rows)


def group_summary(per_reader: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample SD (ddof = 1) across readers of each metric, per condition."""
    cols = [*METRICS, "auc_binary", "auc_rating"]
    rows = []
    for cond, sub in per_reader.groupby("condition", sort=False):
        row = {"condition": cond, "n_readers": len(sub)}
        for c in cols:
            row[f"{c}_mean"] = sub[c].mean()
            row[f"{c}_sd"] = sub[c].std(ddof=1) if len(sub) > 1 else np.nan
        rows.append(row)
    return pd.DataFrame(rows)
