"""Shape measurements on rendered masks (from the arrays, not the generator's parameters)."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk
from scipy import ndimage
from scipy.spatial import ConvexHull


def centroid_mm(case, mask: np.ndarray) -> np.ndarray:
    """Patient-space centroid (LPS mm) of a (slice, row, column) mask on the case's grid."""
    img = sitk.GetImageFromArray(mask.astype(np.uint8))
    img.SetSpacing(case.spacing)
    img.SetOrigin(case.origin)
    img.SetDirection(case.direction)
    k, i, j = np.nonzero(mask)
    index = (float(j.mean()), float(i.mean()), float(k.mean()))
    return np.array(img.TransformContinuousIndexToPhysicalPoint(index))


def largest_slice(mask: np.ndarray) -> int:
    return int(np.argmax(mask.reshape(mask.shape[0], -1).sum(axis=1)))


def solidity(mask2d: np.ndarray) -> float:
    """Area over the area of the convex hull of the pixel squares (1 for a convex shape)."""
    i, j = np.nonzero(mask2d)
    corners = np.concatenate(
        [np.stack([i + di, j + dj], axis=1) for di in (-0.5, 0.5) for dj in (-0.5, 0.5)]
    )
    return float(len(i) / ConvexHull(corners).volume)


def max_inside_distance_mm(mask: np.ndarray, spacing) -> float:
    """Largest distance (mm) from a mask voxel to the outside: half the largest thickness."""
    sx, sy, sz = spacing
    dist = ndimage.distance_transform_edt(mask > 0, sampling=(sz, sy, sx))
    return float(dist.max())


def radial_profile(mask2d: np.ndarray, centre: tuple[float, float], px: float, bins: int = 9):
    """Thickness (mm, radial extent) of a collection in angular bins about ``centre``.

    Returns the thickness per bin from one angular end of the collection to the other.
    """
    i, j = np.nonzero(mask2d)
    dy, dx = (i - centre[0]) * px, (j - centre[1]) * px
    theta = np.arctan2(dy, dx)
    # rotate so the collection does not straddle the +-pi cut
    mid = np.angle(np.exp(1j * theta).mean())
    theta = np.angle(np.exp(1j * (theta - mid)))
    r = np.hypot(dy, dx)
    edges = np.linspace(theta.min(), theta.max() + 1e-9, bins + 1)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (theta >= lo) & (theta < hi)
        out.append(float(r[sel].max() - r[sel].min() + px) if sel.any() else 0.0)
    return np.array(out)
