"""Operating-point selection rules on the empirical ROC curve.

Rules (a case is called positive when ``score >= threshold``):

* ``high_sensitivity[:x]`` - highest sensitivity with specificity >= x (default 0.8). Seed 000's
  "high-sensitivity point" and formal application threshold.
* ``high_specificity[:x]`` - highest specificity with sensitivity >= x (default 0.8).
* ``youden`` - maximal Se + Sp - 1.
* ``threshold:t`` - a fixed threshold, positive when score >= t.

Ties (several ROC vertices equally good) go to the highest threshold, i.e. the fewest positive
calls. For ``high_specificity`` this means the first threshold, scanning down, at which the
sensitivity reaches x - the rule that reproduces seed 000's external-set matrices, where both
points sit at FP = 21 with TP 33 (high-sensitivity) and TP 31 (high-specificity).

Data-driven thresholds are reported as pROC-style midpoints between adjacent distinct scores.
Selecting a threshold on the data used to report Se/Sp is optimistic; say so when reporting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .metrics import Confusion
from .roc import RocCurve, roc_curve

RULES = ("high_sensitivity", "high_specificity", "youden", "threshold")
_EPS = 1e-12


@dataclass(frozen=True)
class OperatingPoint:
    rule: str
    threshold: float
    confusion: Confusion

    @property
    def metrics(self) -> dict[str, float]:
        return self.confusion.metrics()

    def decisions(self, score: npt.ArrayLike) -> np.ndarray:
        return (np.asarray(score, dtype=float) >= self.threshold).astype(int)


def parse_rule(spec: str) -> tuple[str, float | None]:
    """``"high_sensitivity"``, ``"high_sensitivity:0.9"``, ``"youden"``, ``"threshold:0.5"``."""
    name, _, arg = str(spec).strip().partition(":")
    name = name.strip().lower().replace("-", "_")
    if name not in RULES:
        raise ValueError(f"unknown operating-point rule {spec!r}; expected one of {RULES}")
    if name == "youden":
        if arg:
            raise ValueError("'youden' takes no argument")
        return name, None
    if name == "threshold" and not arg:
        raise ValueError("'threshold' needs a value, e.g. threshold:0.5")
    try:
        value = float(arg) if arg else 0.8
    except ValueError:
        raise ValueError(f"operating-point argument in {spec!r} is not a number") from None
    if name != "threshold" and not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} bound must lie in [0, 1], got {value}")
    return name, value


def _vertex(curve: RocCurve, i: int, rule: str) -> OperatingPoint:
    tp, fp = int(curve.tp[i]), int(curve.fp[i])
    conf = Confusion(tp=tp, fn=curve.n_pos - tp, fp=fp, tn=curve.n_neg - fp)
    return OperatingPoint(rule=rule, threshold=float(curve.cut_points[i]), confusion=conf)


def select_operating_point(truth: npt.ArrayLike, score: npt.ArrayLike, spec: str) -> OperatingPoint:
    name, value = parse_rule(spec)
    label = name if value is None else f"{name}:{value:g}"
    bound = 0.0 if value is None else value  # only youden has no value
    if name == "threshold":
        dec = np.asarray(score, dtype=float) >= bound
        return OperatingPoint(label, bound, Confusion.from_arrays(truth, dec))
    curve = roc_curve(truth, score)
    sens = curve.tpr
    spec_ = 1.0 - curve.fpr
    if name == "high_sensitivity":
        ok, value_of = spec_ >= bound - _EPS, sens
    elif name == "high_specificity":
        ok, value_of = sens >= bound - _EPS, spec_
    else:  # youden
        ok, value_of = np.ones_like(sens, dtype=bool), sens + spec_ - 1.0
    # vertices run from the highest threshold (index 0) down; argmax takes the first maximum
    score_ = np.where(ok, value_of, -np.inf)
    best = np.flatnonzero(score_ >= score_.max() - _EPS)[0]
    # the (0,0) and (1,1) vertices always satisfy one of the constraints, so never empty
    return _vertex(curve, int(best), label)
