"""Multi-class endpoints (e.g. seed 003's hematoma location: deep / lobar / subtentorial):
confusion matrix, accuracy, macro and micro F1, per-class precision / recall / F1.

Conventions as scikit-learn's: matrix rows are the truth and columns the decision, both in the
order of ``labels``; per-class F1 = 2TP / (2TP + FP + FN), 0 where that is 0/0 (scikit-learn's
``zero_division`` default); macro F1 = unweighted mean over ``labels``; micro F1 from the pooled
counts (for single-label classification it equals the accuracy).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def confusion_matrix(
    truth: Sequence[Any] | np.ndarray | pd.Series,
    decision: Sequence[Any] | np.ndarray | pd.Series,
    labels: Sequence[str],
) -> np.ndarray:
    """(k, k) counts: row = truth label, column = decision label, in the order of ``labels``;
    values outside ``labels`` are not counted."""
    k = len(labels)
    t = pd.Categorical(np.asarray(truth, dtype=object), categories=list(labels)).codes
    d = pd.Categorical(np.asarray(decision, dtype=object), categories=list(labels)).codes
    ok = (t >= 0) & (d >= 0)
    flat = np.bincount(t[ok].astype(np.int64) * k + d[ok], minlength=k * k)
    return flat.reshape(k, k)


def _safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)


def summary_from_matrix(matrix: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro / micro F1 and per-class metrics from a confusion matrix."""
    m = np.asarray(matrix, dtype=float)
    tp = np.diag(m)
    fp = m.sum(axis=0) - tp
    fn = m.sum(axis=1) - tp
    n = m.sum()
    f1 = _safe_ratio(2 * tp, 2 * tp + fp + fn)
    micro_den = 2 * tp.sum() + fp.sum() + fn.sum()
    return {
        "labels": list(labels),
        "matrix": np.asarray(matrix).astype(int).tolist(),
        "n": int(n),
        "accuracy": float(tp.sum() / n) if n else float("nan"),
        "macro_f1": float(f1.mean()) if len(f1) else float("nan"),
        "micro_f1": float(2 * tp.sum() / micro_den) if micro_den else float("nan"),
        "per_class": [
            {
                "label": lab,
                "support": int(m[i].sum()),
                "precision": float(_safe_ratio(tp[i : i + 1], (tp + fp)[i : i + 1])[0]),
                "recall": float(_safe_ratio(tp[i : i + 1], (tp + fn)[i : i + 1])[0]),
                "f1": float(f1[i]),
            }
            for i, lab in enumerate(labels)
        ],
    }


def multiclass_summary(
    truth: Sequence[Any] | np.ndarray | pd.Series,
    decision: Sequence[Any] | np.ndarray | pd.Series,
    labels: Sequence[str],
) -> dict[str, Any]:
    """``summary_from_matrix`` of the reads' confusion matrix."""
    return summary_from_matrix(confusion_matrix(truth, decision, labels), labels)


def confusion_by_condition(
    reads: pd.DataFrame, conditions: Sequence[str], labels: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Per condition, the confusion matrix of all its reads pooled over readers (the sum of the
    readers' matrices) and its summary, plus each reader's accuracy and macro F1."""
    out: dict[str, dict[str, Any]] = {}
    for cond in conditions:
        sub = reads[reads["condition"] == cond]
        if sub.empty:
            continue
        entry = multiclass_summary(sub["truth"], sub["decision"], labels)
        readers = []
        for reader, rs in sub.groupby("reader", sort=True):
            s = multiclass_summary(rs["truth"], rs["decision"], labels)
            readers.append(
                {
                    "reader": str(reader),
                    "n": s["n"],
                    "accuracy": s["accuracy"],
                    "macro_f1": s["macro_f1"],
                }
            )
        entry["n_readers"] = len(readers)
        entry["per_reader"] = readers
        out[cond] = entry
    return out
