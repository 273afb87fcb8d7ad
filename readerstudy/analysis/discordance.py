"""Model-reader discordance, as seed 002 reports it (Ye et al. 2019, section "Reader comparison").

On the cases read by every reader of a condition and by the model:

* ``model_right_all_readers_wrong``: cases the model classified correctly and every reader
  missed ("the model found 11 SAH cases that no JRT found"), and the reverse,
  ``all_readers_right_model_wrong`` ("only 1 SAH case was caught by all JRTs but missed by the
  model"); each with its count, its positive / negative split (binary endpoints) and the case
  ids;
* per reader: the cases where the model was right and the reader wrong and vice versa, and for
  binary endpoints the true-positive overlap - of the reader's true positives, how many the model
  also found ("14 of 16, 21 of 23, 45 of 50") - and the positives the model found that the reader
  missed ("10.7 ICH-positive cases on average").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .agreement import wide_table
from .reads import natural_sorted


def _case_set(cases: pd.Index, mask: np.ndarray, truth: np.ndarray | None) -> dict[str, Any]:
    out: dict[str, Any] = {"n": int(mask.sum())}
    if truth is not None:
        out["n_positive"] = int((mask & (truth == 1)).sum())
        out["n_negative"] = int((mask & (truth == 0)).sum())
    out["cases"] = natural_sorted(pd.Series(cases[mask], dtype=object)) if mask.any() else []
    return out


def _per_reader(
    readers: list[str],
    correct: np.ndarray,
    decision: np.ndarray,
    model_correct: np.ndarray,
    model_decision: np.ndarray,
    truth: np.ndarray | None,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for j, reader in enumerate(readers):
        c = correct[:, j]
        row: dict[str, Any] = {
            "reader": reader,
            "n_cases": int(c.size),
            "reader_correct": int(c.sum()),
            "model_right_reader_wrong": int((model_correct & ~c).sum()),
            "reader_right_model_wrong": int((c & ~model_correct).sum()),
        }
        if truth is not None:
            pos = truth == 1
            reader_tp = pos & (decision[:, j] == 1)
            model_tp = pos & (model_decision == 1)
            both = reader_tp & model_tp
            row.update(
                reader_tp=int(reader_tp.sum()),
                model_tp=int(model_tp.sum()),
                both_tp=int(both.sum()),
                tp_overlap=float(both.sum() / reader_tp.sum()) if reader_tp.any() else None,
                model_tp_reader_fn=int((model_tp & ~reader_tp).sum()),
                reader_tp_model_fn=int((reader_tp & ~model_tp).sum()),
            )
        rows.append(row)
    return rows


def discordance(
    reads: pd.DataFrame, condition: str, binary: bool = True, model: str = "model"
) -> dict[str, Any] | None:
    """Discordance between the readers of ``condition`` and the model's reads (condition
    ``model``); None when either is missing or no case was read by all of them."""
    cond = reads["condition"].to_numpy()
    sub = reads[cond == condition]
    mod = reads[cond == model].set_index("case")
    if sub.empty or mod.empty:
        return None
    dec_w, units, reader_index = wide_table(sub, ("case",), "decision")
    in_model = units.isin(mod.index)
    cases = units[in_model]
    if not len(cases):
        return None
    readers = natural_sorted(pd.Series(reader_index, dtype=object))
    order = reader_index.get_indexer(pd.Index(readers))
    decision_any = dec_w[in_model][:, order]
    truth_all = mod.loc[cases, "truth"].to_numpy()
    correct = decision_any == truth_all[:, None]
    model_correct = mod.loc[cases, "correct"].to_numpy().astype(bool)
    truth = truth_all.astype(int) if binary else None
    if binary:
        decision = decision_any.astype(int)
        model_decision = mod.loc[cases, "decision"].to_numpy().astype(int)
    else:
        decision = np.zeros_like(correct, dtype=int)
        model_decision = np.zeros(len(cases), dtype=int)
    per_reader = _per_reader(readers, correct, decision, model_correct, model_decision, truth)
    out: dict[str, Any] = {
        "condition": condition,
        "n_readers": len(readers),
        "n_cases": len(cases),
        "model_correct": int(model_correct.sum()),
        "model_right_all_readers_wrong": _case_set(
            cases, model_correct & ~correct.any(axis=1), truth
        ),
        "all_readers_right_model_wrong": _case_set(
            cases, ~model_correct & correct.all(axis=1), truth
        ),
        "mean_model_right_reader_wrong": float(
            np.mean([r["model_right_reader_wrong"] for r in per_reader])
        ),
        "per_reader": per_reader,
    }
    if binary:
        out["mean_model_tp_reader_fn"] = float(
            np.mean([r["model_tp_reader_fn"] for r in per_reader])
        )
    return out
