"""Slice -> scan aggregation of the dual-task ViT's two heads.

* P(ICH) of the scan = the maximum of the slices' P(ICH) (a scan has ICH when any slice does).
* The scan's location distribution = the mean of the slices' location distributions weighted
  by their P(ICH) squared. Location is only trained on (and only meaningful for) slices that
  hold haematoma; weighting by P(ICH) lets those slices decide, and squaring keeps the many
  slices of a scan with a small P(ICH) each from outweighing the few haematoma slices (a
  25-slice scan at 0.05 weighs 0.06 against 1.0 for one slice at 1.0). Unlike taking the
  single most probable slice, one mis-located slice does not decide the scan.
"""

from __future__ import annotations

import numpy as np

AGGREGATION_ICH = "max over slices of P(ich)"
AGGREGATION_LOCATION = (
    "mean of the slices' location distributions weighted by P(ich) squared "
    "(uniform mean when every slice has P(ich) = 0)"
)


def scan_ich(p_ich: np.ndarray) -> float:
    p = np.asarray(p_ich, dtype=np.float64)
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"need one P(ich) per slice, got shape {p.shape}")
    return float(p.max())


def scan_location(p_ich: np.ndarray, p_location: np.ndarray) -> np.ndarray:
    """(n,) P(ich) and (n, k) per-slice class distributions -> (k,) scan distribution."""
    p = np.asarray(p_ich, dtype=np.float64)
    dist = np.asarray(p_location, dtype=np.float64)
    if dist.ndim != 2 or dist.shape[0] != p.shape[0]:
        raise ValueError(
            f"need (n, k) location distributions for {p.shape[0]} slices, got {dist.shape}"
        )
    w = p**2
    if not np.any(w > 0):
        w = np.ones_like(p)
    out: np.ndarray = (w[:, None] * dist).sum(axis=0) / w.sum()
    return out
