"""Confusion-matrix metrics, vectorised over arrays of counts.

Every function accepts scalars or NumPy arrays of counts (e.g. one entry per bootstrap
resample). Undefined ratios (0/0) are NaN.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

METRICS = ("accuracy", "sensitivity", "specificity", "ppv", "npv", "f1", "mcc")


@dataclass(frozen=True)
class Confusion:
    tp: int
    fn: int
    fp: int
    tn: int

    @classmethod
    def from_arrays(cls, truth: npt.ArrayLike, decision: npt.ArrayLike) -> Confusion:
        truth = np.asarray(truth).astype(bool)
        decision = np.asarray(decision).astype(bool)
        return cls(
            tp=int(np.sum(truth & decision)),
            fn=int(np.sum(truth & ~decision)),
            fp=int(np.sum(~truth & decision)),
            tn=int(np.sum(~truth & ~decision)),
        )

    def metrics(self) -> dict[str, float]:
        return {k: float(v) for k, v in confusion_metrics(**asdict(self)).items()}


def _ratio(num: npt.ArrayLike, den: npt.ArrayLike) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: np.ndarray = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
        return out


def confusion_metrics(
    tp: npt.ArrayLike, fn: npt.ArrayLike, fp: npt.ArrayLike, tn: npt.ArrayLike
) -> dict[str, np.ndarray]:
    """Accuracy, sensitivity, specificity, PPV, NPV, F1 and MCC from counts."""
    tp, fn, fp, tn = (np.asarray(x, dtype=float) for x in (tp, fn, fp, tn))
    n = tp + fn + fp + tn
    mcc_den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return {
        "accuracy": _ratio(tp + tn, n),
        "sensitivity": _ratio(tp, tp + fn),
        "specificity": _ratio(tn, tn + fp),
        "ppv": _ratio(tp, tp + fp),
        "npv": _ratio(tn, tn + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "mcc": _ratio(tp * tn - fp * fn, mcc_den),
    }
