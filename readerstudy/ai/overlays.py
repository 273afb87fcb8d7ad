"""Model outputs in the viewer's overlay format: uint8 voxels + a descriptor.

Frames follow the series' sorted slice order (frame 0 = lowest position along the slice
normal, as the cached volume is built). In-plane size is reduced to at most ``max_side`` pixels:
heatmaps are smooth, and the viewer scales them back onto the image.
"""

import numpy as np


def _downsample(volume: np.ndarray, max_side: int, *, reduce: str) -> np.ndarray:
    factor = int(np.ceil(max(volume.shape[1:]) / max_side))
    if factor <= 1:
        return volume
    z, y, x = volume.shape
    y2, x2 = (y // factor) * factor, (x // factor) * factor
    blocks = volume[:, :y2, :x2].reshape(z, y2 // factor, factor, x2 // factor, factor)
    return blocks.max(axis=(2, 4)) if reduce == "max" else blocks.mean(axis=(2, 4))


def encode_overlay(
    volume: np.ndarray,
    *,
    method: str,
    signed: bool,
    max_side: int = 256,
    fixed_range: tuple[float, float] | None = None,
):
    """Quantise a float map to uint8. Signed maps are symmetric around zero (128 = 0).

    ``fixed_range`` quantises on that range (values outside are clipped) instead of the map's
    own, so that one byte means the same value in every case (a global colour scale).
    """
    data = _downsample(np.asarray(volume, dtype=np.float32), max_side, reduce="mean")
    data = np.nan_to_num(data)
    if fixed_range is not None:
        lo, hi = (float(v) for v in fixed_range)
    elif signed:
        bound = float(np.abs(data).max()) or 1.0
        lo, hi = -bound, bound
    else:
        lo, hi = float(data.min()), float(data.max())
        if hi <= lo:
            hi = lo + 1.0
    quantised = np.clip(np.rint((data - lo) / (hi - lo) * 255.0), 0, 255).astype(np.uint8)
    descriptor = {
        "method": method,
        "signed": signed,
        "shape": list(quantised.shape),
        "range": [lo, hi],
    }
    return descriptor, quantised.tobytes()


def encode_mask(mask: np.ndarray, *, max_side: int = 256):
    data = _downsample((np.asarray(mask) > 0).astype(np.uint8), max_side, reduce="max")
    descriptor = {"method": "mask", "signed": False, "shape": list(data.shape), "range": [0, 255]}
    return descriptor, (data * 255).astype(np.uint8).tobytes()
