"""Agreement among a truth panel's annotators on one label: Fleiss' kappa and percent agreement.

``ratings`` is a subjects x raters table of category values (any hashable: 0/1, class names).
Percent agreement is the mean over subjects of the share of rater pairs that agree (the
observed agreement P-bar of Fleiss' kappa); ``unanimous`` is the share of subjects on which
every rater agrees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa


def panel_agreement(ratings: Sequence[Sequence[object]]) -> dict[str, float | int | None]:
    table = [list(row) for row in ratings]
    if not table:
        return {"n_cases": 0, "n_raters": 0, "fleiss_kappa": None,
                "percent_agreement": None, "unanimous": None}  # fmt: skip
    n_raters = len(table[0])
    if n_raters < 2 or any(len(row) != n_raters for row in table):
        raise ValueError("every case needs the same number (>= 2) of ratings")
    categories = sorted({v for row in table for v in row}, key=repr)
    codes = np.array([[categories.index(v) for v in row] for row in table])
    counts, _ = aggregate_raters(codes, n_cat=len(categories))
    pairs = n_raters * (n_raters - 1)
    observed = ((counts * (counts - 1)).sum(axis=1) / pairs).mean()
    if len(categories) == 1:
        kappa: float | None = None  # one category only: agreement by chance is total
    else:
        value = float(fleiss_kappa(counts, method="fleiss"))
        kappa = None if math.isnan(value) else value
    return {
        "n_cases": len(table),
        "n_raters": n_raters,
        "fleiss_kappa": kappa,
        "percent_agreement": float(observed) * 100,
        "unanimous": float((counts.max(axis=1) == n_raters).mean()) * 100,
    }
