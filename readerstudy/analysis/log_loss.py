"""Weighted multi-label log-loss (seed 004, the RSNA 2019 intracranial-hemorrhage challenge).

Two forms, named after where they come from (digest NR-7):

* ``seed_form`` - as the seed writes it, the weight on the positive term only, divided by N·C:
  L = -(1/N)(1/C) Σ_k Σ_c [w_c y_kc log p_kc + (1 - y_kc) log(1 - p_kc)];
* ``rsna_form`` - the challenge metric, the weight on both terms, divided by N·Σ_c w_c:
  L = -(1/N) Σ_k Σ_c w_c [y_kc log p_kc + (1 - y_kc) log(1 - p_kc)] / Σ_c w_c.

Probabilities are clipped to [eps, 1 - eps] (eps = 1e-15) so that a confident wrong 0 or 1 gives a
large, finite loss. Weights: 2 for the ``any`` label, 1 for each subtype (seed 004).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

EPS = 1e-15
ANY_WEIGHT = 2.0
ANY_LABEL = "any"


def weighted_log_loss(
    y: Sequence[Sequence[float]] | np.ndarray,
    p: Sequence[Sequence[float]] | np.ndarray,
    weights: Sequence[float] | np.ndarray,
    eps: float = EPS,
) -> dict[str, float]:
    """Both forms for (N, C) labels ``y`` (0/1) and probabilities ``p`` with (C,) weights."""
    yy = np.atleast_2d(np.asarray(y, dtype=float))
    pp = np.clip(np.atleast_2d(np.asarray(p, dtype=float)), eps, 1.0 - eps)
    w = np.asarray(weights, dtype=float)
    if yy.shape != pp.shape or yy.shape[1] != w.size:
        raise ValueError("y and p must be (N, C) arrays and weights a (C,) array")
    n, c = yy.shape
    pos = yy * np.log(pp)
    neg = (1.0 - yy) * np.log(1.0 - pp)
    seed = -float((w * pos + neg).sum()) / (n * c)
    rsna = -float((w * (pos + neg)).sum()) / (n * w.sum())
    return {"seed_form": seed, "rsna_form": rsna}


def default_weights(endpoints: Sequence[str]) -> dict[str, float]:
    """2 for the endpoint named ``any`` (case-insensitive), 1 for the others."""
    return {ep: ANY_WEIGHT if ep.strip().lower() == ANY_LABEL else 1.0 for ep in endpoints}


def log_loss_section(
    tables: Mapping[str, pd.DataFrame],
    level: str,
    weights: Mapping[str, float] | None = None,
) -> dict[str, Any] | None:
    """The report's ``model_performance.weighted_log_loss``: ``tables`` maps each binary
    endpoint to its ``case[, slice], truth, score`` rows (probabilities); the loss is computed on
    the units (cases or slices) scored for every endpoint. None when no unit qualifies."""
    eps = list(tables)
    if not eps:
        return None
    keys = ["case", "slice"] if level == "slice" else ["case"]
    wide_t, wide_p = [], []
    for ep in eps:
        t = tables[ep].set_index(keys)
        wide_t.append(t["truth"].rename(ep))
        wide_p.append(t["score"].rename(ep))
    truth = pd.concat(wide_t, axis=1, join="inner")
    score = pd.concat(wide_p, axis=1, join="inner").reindex(truth.index)
    all_units = pd.concat([tables[ep].set_index(keys).index.to_frame() for ep in eps]).index
    if truth.empty:
        return None
    w = dict(weights or default_weights(eps))
    res = weighted_log_loss(truth.to_numpy(), score.to_numpy(), [w[ep] for ep in eps])
    return {
        **res,
        "level": level,
        "n_units": int(len(truth)),
        "units_left_out": int(all_units.nunique() - len(truth)),
        "endpoints": eps,
        "weights": w,
        "eps": EPS,
    }
