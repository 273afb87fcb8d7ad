"""Preprocessing of seed 000, with SimpleITK, and its inverse.

Forward: resample the CT (linear) onto a *model grid* - the seed's 1 mm isotropic grid or its
5 mm variant (z 5 mm, in-plane 1 mm) - that is centred on the head and has the seed's matrix
size, so resampling and brain-centred crop/pad are one ``sitk.Resample``; window HU 0-200 to
[0, 1]; after segmentation cut the ROI patch (128^3, or [32, 128, 128] at 5 mm) centred on the
hematoma's bounding box.

Inverse: every grid here is a :class:`~inference.geometry.Grid` whose origin already encodes
the crop offsets, so outputs go back to the DICOM grid with :func:`inference.geometry.to_grid`.

The model grid keeps the input's direction cosines (resampling happens in the image's own
index axes, as the seed's released code does); where the model spacing equals the input
spacing along an axis (e.g. 5 mm slices), the grid is snapped onto the input lattice so that
no interpolation happens along that axis. A sheared input (a tilted gantry's series) gets the
nearest orthogonal direction (:func:`~inference.geometry.orthogonal_direction`: rows, then the
table axis): the model sees the untilted head, and its outputs are resampled back onto the
sheared input grid like any other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import SimpleITK as sitk
from scipy import ndimage

from .geometry import Geometry, Grid, orthogonal_direction, resample

AIR_HU = -1024.0

BBox = tuple[np.ndarray, np.ndarray]  # (start, stop) (z, y, x) index arrays


@dataclass(frozen=True)
class PreprocessConfig:
    setting: str = "5mm"
    spacing: tuple[float, float, float] = (1.0, 1.0, 5.0)  # x, y, z (mm)
    grid_shape: tuple[int, int, int] = (32, 256, 256)  # z, y, x
    patch_shape: tuple[int, int, int] = (32, 128, 128)  # z, y, x
    hu_window: tuple[float, float] = (0.0, 200.0)
    head_threshold_hu: float = -300.0
    mask_threshold: float = 0.5
    roi_min_component_fraction: float = 0.1
    # sliding window for segmentation (z, y, x); None = the whole grid in one pass
    seg_window: tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        for name in ("spacing", "grid_shape", "patch_shape", "hu_window", "seg_window"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, tuple(getattr(self, name)))
        if any(p > g for p, g in zip(self.patch_shape, self.grid_shape)):
            raise ValueError("patch_shape must fit inside grid_shape")

    @classmethod
    def preset(cls, name: str) -> PreprocessConfig:
        """``"5mm"``: seed's [32, 256, 256] grid, [32, 128, 128] patch. ``"1mm"``: the seed's
        140x250x250 matrix rounded up to multiples of 8 (U-Net pooling), 128^3 patch."""
        if name == "5mm":
            return cls()
        if name == "1mm":
            return cls(
                "1mm", (1.0, 1.0, 1.0), (144, 256, 256), (128, 128, 128), seg_window=(128, 128, 128)
            )
        raise ValueError(f"unknown preprocessing preset {name!r} (use '5mm' or '1mm')")

    def to_dict(self) -> dict[str, Any]:
        out = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        return {k: v for k, v in out.items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PreprocessConfig:
        return cls(**{k: v for k, v in data.items() if k != "summary"})


def head_centre(image: sitk.Image, threshold_hu: float) -> np.ndarray:
    """Physical centroid of the largest connected region above ``threshold_hu`` (the head;
    small detached objects such as the table are ignored)."""
    arr = sitk.GetArrayViewFromImage(image)
    grid = Grid.from_sitk(image)
    fg = arr > threshold_hu
    if not fg.any():
        return grid.index_to_physical((np.asarray(grid.shape) - 1) / 2.0)
    labels, n = ndimage.label(fg)
    if n > 1:
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0
        fg = labels == int(np.argmax(sizes))
    idx = np.argwhere(fg).mean(axis=0)
    return grid.index_to_physical(idx)


def model_grid(image: sitk.Image, cfg: PreprocessConfig) -> Grid:
    """The model grid: cfg spacing and matrix, input direction (made orthogonal), centred on
    the head."""
    source = Grid.from_sitk(image)
    direction = orthogonal_direction(source.geometry.direction)
    centre = head_centre(image, cfg.head_threshold_hu)
    shape = np.asarray(cfg.grid_shape, dtype=float)
    spacing_xyz = np.asarray(cfg.spacing, dtype=float)
    half = ((shape - 1) / 2.0)[::-1] * spacing_xyz  # x, y, z mm
    origin = centre - np.asarray(direction).reshape(3, 3) @ half
    # Snap onto the input lattice along axes whose spacing matches (no needless interpolation;
    # a sheared input is interpolated along every axis anyway).
    idx = source.physical_to_index(origin)
    same = np.isclose(np.asarray(source.geometry.spacing), spacing_xyz, rtol=1e-3)[::-1]
    if same.any() and source.geometry.is_orthogonal:
        idx = np.where(same, np.round(idx), idx)
        origin = source.index_to_physical(idx)
    return Grid(cfg.grid_shape, Geometry(tuple(spacing_xyz), tuple(origin), direction))


def window(hu: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Clip HU to [lo, hi] and scale to [0, 1] (float32)."""
    out: np.ndarray = ((np.clip(hu, lo, hi) - lo) / (hi - lo)).astype(np.float32)
    return out


def resample_ct(image: sitk.Image, grid: Grid) -> np.ndarray:
    """CT in HU on ``grid`` (linear interpolation; outside the scan = air)."""
    img = sitk.Cast(image, sitk.sitkFloat32)
    out: np.ndarray = resample(img, grid, "linear", AIR_HU).astype(np.float32)
    return out


def mask_to_grid(
    mask: np.ndarray, source: Grid, target: Grid, threshold: float = 0.5
) -> np.ndarray:
    """Binary mask from one grid to another: linear interpolation of the 0/1 (or probability)
    map, then a threshold - smoother and less biased than nearest neighbour when the
    spacings differ."""
    img = source.image(np.asarray(mask, dtype=np.float32))
    out: np.ndarray = (resample(img, target, "linear", 0.0) >= threshold).astype(np.uint8)
    return out


@dataclass
class Prepared:
    """A CT on the model grid."""

    input_grid: Grid
    grid: Grid
    hu: np.ndarray  # (z, y, x) float32 HU on ``grid``
    ct: np.ndarray  # windowed to [0, 1]


def prepare(image: sitk.Image, cfg: PreprocessConfig) -> Prepared:
    grid = model_grid(image, cfg)
    hu = resample_ct(image, grid)
    return Prepared(Grid.from_sitk(image), grid, hu, window(hu, *cfg.hu_window))


def roi_bbox(mask: np.ndarray, min_fraction: float = 0.1) -> BBox | None:
    """Bounding box ``(start, stop)`` (z, y, x) of the segmented hematoma, or None if empty.

    Components smaller than ``min_fraction`` of the largest are treated as segmentation
    noise; the remaining ones (e.g. several flame-shaped bleeds) all go into the box.
    """
    if not mask.any():
        return None
    labels, n = ndimage.label(mask > 0)
    sizes = np.bincount(labels.ravel())[1:]
    keep = np.flatnonzero(sizes >= min_fraction * sizes.max()) + 1
    pts = np.argwhere(np.isin(labels, keep))
    return pts.min(axis=0), pts.max(axis=0) + 1


def patch_start(
    bbox: tuple[npt.ArrayLike, npt.ArrayLike], patch_shape: npt.ArrayLike, grid_shape: npt.ArrayLike
) -> np.ndarray:
    """Start index of a patch centred on the bbox centre, clamped inside the grid."""
    start, stop = (np.asarray(b) for b in bbox)
    centre = (start + stop) / 2.0
    ps, gs = np.asarray(patch_shape), np.asarray(grid_shape)
    s = np.floor(centre - ps / 2.0 + 0.5).astype(int)
    out: np.ndarray = np.clip(s, 0, np.maximum(gs - ps, 0))
    return out


def crop(
    array: np.ndarray, start: npt.ArrayLike, shape: npt.ArrayLike, fill: float = 0.0
) -> np.ndarray:
    """``array[start:start+shape]`` along the last three axes, padding with ``fill`` outside."""
    start_ = np.asarray(start, dtype=int)
    shape_ = np.asarray(shape, dtype=int)
    out = np.full(array.shape[:-3] + tuple(shape_), fill, dtype=array.dtype)
    src_lo = np.maximum(start_, 0)
    src_hi = np.minimum(start_ + shape_, array.shape[-3:])
    if np.any(src_hi <= src_lo):
        return out
    dst_lo = src_lo - start_
    dst_hi = dst_lo + (src_hi - src_lo)
    src: tuple[Any, ...] = (..., *(slice(a, b) for a, b in zip(src_lo, src_hi)))
    dst: tuple[Any, ...] = (..., *(slice(a, b) for a, b in zip(dst_lo, dst_hi)))
    out[dst] = array[src]
    return out


def roi_patch(
    cfg: PreprocessConfig, ct: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, BBox | None]:
    """The classifier input ``(2, z, y, x)`` = [CT, mask] cut around the hematoma.

    Returns ``(patch, start, bbox)``; ``bbox`` is None when nothing was segmented, in which
    case the patch is centred on the grid (i.e. on the head)."""
    bbox = roi_bbox(mask, cfg.roi_min_component_fraction)
    if bbox is None:
        centre = np.asarray(cfg.grid_shape) // 2
        used = (centre, centre + 1)
    else:
        used = bbox
    start = patch_start(used, cfg.patch_shape, ct.shape)
    patch = np.stack(
        [
            crop(ct, start, cfg.patch_shape).astype(np.float32),
            crop(mask, start, cfg.patch_shape).astype(np.float32),
        ]
    )
    return patch, start, bbox
