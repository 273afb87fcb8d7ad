"""The Dice coefficient of two masks (Dice 1945): 2|A n B| / (|A| + |B|).

1 for identical masks, 0 for disjoint ones; two empty masks have no overlap to measure (NaN).
Masks are boolean or 0/1 arrays of one grid (nonzero = inside). The comparisons built on it
(reader vs reader, intra-reader, vs truth, vs model) are in :mod:`.segmentation_dice`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike


def dice(a: ArrayLike, b: ArrayLike) -> float:
    """Dice coefficient of two masks of the same shape; NaN when both are empty."""
    x = np.asarray(a) != 0
    y = np.asarray(b) != 0
    if x.shape != y.shape:
        raise ValueError(f"masks differ in shape: {x.shape} and {y.shape}")
    total = int(x.sum()) + int(y.sum())
    if total == 0:
        return math.nan
    return 2.0 * int(np.logical_and(x, y).sum()) / total
