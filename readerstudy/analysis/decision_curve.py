"""Decision-curve analysis (Vickers & Elkin 2006): net benefit of acting on a model's risk at
threshold probability pt, against treating everyone and treating no one (seed 001).

Net benefit = TP/n - FP/n * pt / (1 - pt), where a case is positive when its risk >= pt (the
convention of R ``dcurves::dca``); treat all = prevalence - (1 - prevalence) *
pt / (1 - pt); treat none = 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

DEFAULT_THRESHOLDS: tuple[float, ...] = tuple(round(k / 100, 2) for k in range(1, 100))


def _thresholds(thresholds: Sequence[float] | None) -> FloatArray:
    t = np.asarray(DEFAULT_THRESHOLDS if thresholds is None else thresholds, dtype=float)
    if t.ndim != 1 or t.size == 0:
        raise ValueError("thresholds must be a non-empty list of numbers")
    if not (np.isfinite(t).all() and (t > 0).all() and (t < 1).all()):
        raise ValueError("thresholds must lie strictly between 0 and 1")
    return t


def net_benefit(
    y: ArrayLike, risk: ArrayLike, thresholds: Sequence[float] | None = None
) -> list[float]:
    """Net benefit of treating the cases with ``risk >= pt`` at each threshold ``pt``."""
    yy = np.asarray(y, dtype=float).ravel()
    rr = np.asarray(risk, dtype=float).ravel()
    if yy.shape != rr.shape or yy.size == 0:
        raise ValueError("y and risk must be non-empty and of equal length")
    if not np.isin(yy, (0.0, 1.0)).all():
        raise ValueError("y must be 0 or 1")
    if not np.isfinite(rr).all():
        raise ValueError("risks must be finite numbers")
    t = _thresholds(thresholds)
    pos = np.sort(rr[yy == 1])
    neg = np.sort(rr[yy == 0])
    # number of risks >= t = n - (number of risks < t)
    tp = pos.size - np.searchsorted(pos, t, side="left")
    fp = neg.size - np.searchsorted(neg, t, side="left")
    n = yy.size
    nb = tp / n - fp / n * t / (1 - t)
    return [float(v) for v in nb]


def decision_curve(
    y: ArrayLike,
    risks: Mapping[str, ArrayLike] | ArrayLike,
    thresholds: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Net-benefit curves of one or several models on the same cases.

    ``risks`` is one array (named ``model``) or ``{name: array}``. Returns ``thresholds``,
    ``models`` ({name: [net benefit per threshold]}), ``treat_all``, ``treat_none``, ``n`` and
    ``prevalence``. Thresholds default to 0.01, 0.02, ..., 0.99."""
    named: dict[str, ArrayLike] = (
        {str(k): v for k, v in risks.items()} if isinstance(risks, Mapping) else {"model": risks}
    )
    if not named:
        raise ValueError("no model risks given")
    yy = np.asarray(y, dtype=float).ravel()
    t = _thresholds(thresholds)
    models = {name: net_benefit(yy, r, t.tolist()) for name, r in named.items()}
    prev = float(yy.mean())
    treat_all = prev - (1 - prev) * t / (1 - t)
    return {
        "thresholds": t.tolist(),
        "models": models,
        "treat_all": [float(v) for v in treat_all],
        "treat_none": [0.0] * t.size,
        "n": int(yy.size),
        "prevalence": prev,
    }
