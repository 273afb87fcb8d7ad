"""Descriptive reader tables: per reader x condition metrics, pooled counts, group mean +- SD."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .metrics import METRICS, confusion_metrics
from .reads import natural_sorted

CONDITION_ORDER = ("unaided", "aided", "model")


def _conditions(reads: pd.DataFrame, conditions: Sequence[str] | None = None) -> list[str]:
    """``conditions`` (those with reads), else unaided, aided, the other conditions in order of
    appearance, model."""
    present = list(dict.fromkeys(reads["condition"]))
    if conditions is not None:
        return [c for c in conditions if c in present]
    known = [c for c in CONDITION_ORDER[:2] if c in present]
    others = [c for c in present if c not in CONDITION_ORDER]
    return known + others + (["model"] if "model" in present else [])


def per_reader_metrics(
    reads: pd.DataFrame, conditions: Sequence[str] | None = None
) -> pd.DataFrame:
    """One row per reader x condition: counts, the seven metrics, binary AUC = (Se + Sp)/2
    (seed 002 convention) and the empirical AUC of ``rating`` where every read has one.
    Rows in the order of ``conditions`` (default: see ``_conditions``), readers sorted."""
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
    aucs = _rating_aucs(reads)
    g["auc_rating"] = [aucs[(c, rd)] for c, rd in zip(g["condition"], g["reader"], strict=True)]
    order = {c: i for i, c in enumerate(_conditions(reads, conditions))}
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


def _rating_aucs(reads: pd.DataFrame) -> dict[tuple[str, str], float]:
    """Empirical (Wilcoxon) AUC of ``rating`` per condition x reader, ties 1/2, from midranks
    within each group (as ``empirical_auc``); NaN where a rating is missing or a class absent."""
    keys = [reads["condition"], reads["reader"]]
    rank = reads["rating"].groupby(keys, sort=False).rank(method="average")
    pos = (reads["truth"] == 1).to_numpy()
    parts = pd.DataFrame(
        {
            "n1": pos.astype(float),
            "n0": (~pos).astype(float),
            "rpos": np.where(pos, rank.to_numpy(), 0.0),
            "missing": reads["rating"].isna().to_numpy().astype(float),
        }
    )
    t = parts.groupby([k.to_numpy() for k in keys], sort=False).sum()
    n1, n0 = t["n1"].to_numpy(), t["n0"].to_numpy()
    ok = (t["missing"].to_numpy() == 0) & (n1 > 0) & (n0 > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = np.where(ok, (t["rpos"].to_numpy() - n1 * (n1 + 1) / 2.0) / (n1 * n0), np.nan)
    return {(str(c), str(r)): float(a) for (c, r), a in zip(t.index, auc, strict=True)}


def pooled_counts(reads: pd.DataFrame, conditions: Sequence[str] | None = None) -> pd.DataFrame:
    """Per condition: correct / reads, TP / positive reads, TN / negative reads."""
    pos = (reads["truth"] == 1).to_numpy()
    dec = (reads["decision"] == 1).to_numpy()
    parts = pd.DataFrame(
        {
            "reads": 1,
            "correct": reads["correct"].to_numpy(),
            "positive_reads": pos.astype(int),
            "tp": (pos & dec).astype(int),
            "negative_reads": (~pos).astype(int),
            "tn": (~pos & ~dec).astype(int),
        }
    )
    sums = parts.groupby(reads["condition"].to_numpy(), sort=False).sum()
    rows = []
    for cond in _conditions(reads, conditions):
        t = {k: int(v) for k, v in sums.loc[cond].items()}
        rows.append(
            {
                "condition": cond,
                **t,
                "accuracy": t["correct"] / t["reads"],
                "sensitivity": t["tp"] / t["positive_reads"] if t["positive_reads"] else np.nan,
                "specificity": t["tn"] / t["negative_reads"] if t["negative_reads"] else np.nan,
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
