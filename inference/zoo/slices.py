"""Slice preprocessing shared by the 2D slice models, and its inverse.

Forward (:func:`slice_stack`): the input series' slices in geometric order (ascending along
the normal of the image plane), each windowed into one channel per CT window (seed 004: brain
L40/W80, subdural L80/W200, bone L600/W2800 as RGB; each window maps HU linearly onto [0, 1]
and clips) and resampled in-plane onto the model's slice shape.

In-plane resampling keeps the aspect ratio in millimetres: the model slice is the smallest
box of ``slice_shape``'s aspect that holds the input's field of view, centred on it, with
square pixels; the margin is air (-1024 HU). Downsampling is anti-aliased (Gaussian, sigma
``(f - 1) / 2`` input pixels for a factor ``f``, as scikit-image does). The slice lattice is
the input's own (same origin along the slice axis, same slice step and direction), so no
interpolation happens across slices and a tilted-gantry (sheared) series is handled as it is.

Inverse (:meth:`SliceStack.to_input_grid`): per-slice maps go back onto the input grid by
bilinear interpolation in physical space (separable per-axis weights on the shared slice
lattice; the same values as a SimpleITK linear resampling of the model grid). Convention:
a pixel's value sits at its *centre* (ITK's convention, the same as PyTorch's
``align_corners=False``); the corners of the model slice lie half a model pixel outside the
outermost pixel centres, and input pixels outside the outermost model pixel centres take the
nearest-edge interpolation SimpleITK gives at the border (within half a model pixel).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from ..geometry import Geometry, Grid, resample

AIR_HU = -1024.0
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
NORMALISATIONS = ("unit", "imagenet")


@dataclass(frozen=True)
class Window:
    """A CT display window: HU ``level - width/2`` maps to 0, ``level + width/2`` to 1."""

    name: str
    level: float
    width: float

    def __post_init__(self) -> None:
        if not self.width > 0:
            raise ValueError(f"window {self.name!r}: width must be positive, got {self.width}")

    def apply(self, hu: np.ndarray) -> np.ndarray:
        low = self.level - self.width / 2.0
        out: np.ndarray = np.clip((np.asarray(hu, np.float32) - low) / self.width, 0.0, 1.0)
        return out.astype(np.float32, copy=False)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "level": self.level, "width": self.width}


SEED004_WINDOWS = (
    Window("brain", 40.0, 80.0),
    Window("subdural", 80.0, 200.0),
    Window("bone", 600.0, 2800.0),
)


@dataclass(frozen=True)
class SliceConfig:
    """What a slice model expects: windows (one channel each), slice shape, normalisation."""

    windows: tuple[Window, ...] = SEED004_WINDOWS
    slice_shape: tuple[int, int] = (128, 128)  # (h, w)
    normalisation: str = "unit"  # "unit": windows in [0, 1]; "imagenet": then mean/std

    def __post_init__(self) -> None:
        object.__setattr__(self, "windows", tuple(self.windows))
        object.__setattr__(self, "slice_shape", tuple(int(v) for v in self.slice_shape))
        if not self.windows:
            raise ValueError("preprocessing.windows: at least one window is needed")
        if len(self.slice_shape) != 2 or min(self.slice_shape) < 1:
            raise ValueError(
                f"preprocessing.slice_shape must be two positive ints, got {self.slice_shape}"
            )
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(
                f"preprocessing.normalisation must be one of {NORMALISATIONS}, "
                f"got {self.normalisation!r}"
            )
        if self.normalisation == "imagenet" and len(self.windows) != 3:
            raise ValueError("preprocessing: imagenet normalisation needs exactly 3 windows")

    @classmethod
    def from_manifest(cls, preprocessing: Mapping[str, Any]) -> SliceConfig:
        """From a manifest's ``preprocessing`` object (``windows``, ``slice_shape``, ...)."""
        try:
            windows = tuple(
                Window(str(w["name"]), float(w["level"]), float(w["width"]))
                for w in preprocessing["windows"]
            )
            shape = tuple(preprocessing["slice_shape"])
        except (KeyError, TypeError) as exc:
            raise ValueError(
                "preprocessing needs windows [{name, level, width}] and slice_shape [h, w]"
            ) from exc
        return cls(windows, shape, str(preprocessing.get("normalisation", "unit")))

    def to_manifest(self) -> dict[str, Any]:
        return {
            "windows": [w.to_dict() for w in self.windows],
            "slice_shape": list(self.slice_shape),
            "normalisation": self.normalisation,
        }


def window_channels(hu: np.ndarray, windows: Iterable[Window]) -> np.ndarray:
    """(n, h, w) HU -> (n, c, h, w) float32, one [0, 1] channel per window."""
    return np.stack([w.apply(hu) for w in windows], axis=1)


def normalise(images: np.ndarray, normalisation: str) -> np.ndarray:
    """Windowed (n, c, h, w) images -> the network's input scale."""
    if normalisation == "unit":
        return images
    if normalisation == "imagenet":
        mean = np.asarray(IMAGENET_MEAN, np.float32)[None, :, None, None]
        std = np.asarray(IMAGENET_STD, np.float32)[None, :, None, None]
        out: np.ndarray = ((images - mean) / std).astype(np.float32)
        return out
    raise ValueError(f"normalisation must be one of {NORMALISATIONS}, got {normalisation!r}")


@dataclass(frozen=True)
class SliceStack:
    """The model's view of a series, and the way back to the input grid.

    ``images[i]`` is the ``i``-th slice in ascending geometric order; it is input slice
    ``order[i]`` (the identity when the input's slice axis already ascends along the
    normal, the reverse otherwise). ``hu`` keeps the resampled HU slices for models that
    window differently.
    """

    images: np.ndarray  # float32 (n, c, h, w), normalised
    hu: np.ndarray  # float32 (n, h, w), resampled HU, same order as images
    input_grid: Grid
    slice_grid: Grid  # model slices on the input's slice lattice, input index order
    order: np.ndarray  # int (n,): stack position -> input slice index
    slice_spacing: float  # mm between slice planes, along the normal
    slice_thickness: float  # mm (DICOM SliceThickness when given, else the spacing)
    pixel_mm: float  # model pixel size (square)
    config: SliceConfig = field(default_factory=SliceConfig)

    @property
    def n(self) -> int:
        return int(self.images.shape[0])

    def to_input_order(self, values: np.ndarray) -> np.ndarray:
        """Per-slice values in stack order (axis 0) -> input slice index order."""
        values = np.asarray(values)
        if values.shape[0] != self.n:
            raise ValueError(f"expected {self.n} slices on axis 0, got {values.shape[0]}")
        out = np.empty_like(values)
        out[self.order] = values
        return out

    def to_input_grid(self, maps: np.ndarray) -> np.ndarray:
        """(n, h, w) per-slice maps in stack order -> float32 (z, y, x) on the input grid.

        Bilinear in-plane (pixel-centre convention, see the module docstring); slice k of
        the output is exactly stack slice ``order.argsort()[k]`` (no mixing across slices).
        """
        maps = np.asarray(maps, dtype=np.float32)
        h, w = self.config.slice_shape
        if maps.shape != (self.n, h, w):
            raise ValueError(f"maps must have shape {(self.n, h, w)}, got {maps.shape}")
        in_order = self.to_input_order(maps)
        _, ny, nx = self.input_grid.shape
        _, y0, x0 = self.input_grid.physical_to_index(self.slice_grid.geometry.origin)
        sx, sy, _ = self.input_grid.geometry.spacing
        ly, fy = _linear_taps(ny, h, y0, sy / self.pixel_mm)
        lx, fx = _linear_taps(nx, w, x0, sx / self.pixel_mm)
        padded = np.pad(in_order, ((0, 0), (0, 1), (0, 1)), mode="edge")  # h or w may be 1
        rows = padded[:, ly] * (1.0 - fy)[None, :, None] + padded[:, ly + 1] * fy[None, :, None]
        out: np.ndarray = rows[:, :, lx] * (1.0 - fx) + rows[:, :, lx + 1] * fx
        return out.astype(np.float32, copy=False)


def _linear_taps(n_out: int, n_in: int, start: float, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear taps along one axis: output pixel j sits at continuous model index
    ``(j - start) * step`` and takes ``(1 - f) * v[lo] + f * v[lo + 1]``. Beyond the outermost
    model pixel centres (at most half a model pixel: the model slice holds the field of
    view) the edge value is used, as ITK's linear interpolator does; the values equal a
    SimpleITK linear resampling of the model grid (tested), in a fraction of its time."""
    if n_in == 1:
        return np.zeros(n_out, int), np.zeros(n_out, np.float32)
    u = np.clip((np.arange(n_out) - start) * step, 0.0, n_in - 1)
    lo = np.minimum(np.floor(u).astype(int), n_in - 2)
    return lo, (u - lo).astype(np.float32)


def slice_normal_spacing(geometry: Geometry) -> tuple[float, bool]:
    """(distance between slice planes along the plane's normal, slice axis ascends it)."""
    d = geometry.direction_matrix
    normal = np.cross(d[:, 0], d[:, 1])
    normal /= np.linalg.norm(normal)
    step = float(normal @ d[:, 2]) * geometry.spacing[2]
    return abs(step), step > 0


def model_slice_grid(grid: Grid, slice_shape: tuple[int, int]) -> tuple[Grid, float]:
    """The model's slice grid on ``grid``'s slice lattice, and its pixel size (mm)."""
    nz, ny, nx = grid.shape
    sx, sy, _ = grid.geometry.spacing
    h, w = slice_shape
    pixel = max(ny * sy / h, nx * sx / w)
    # continuous input index (y, x) of the model's pixel (0, 0) centre: both centred
    y0 = (ny - 1) / 2.0 - (h - 1) / 2.0 * pixel / sy
    x0 = (nx - 1) / 2.0 - (w - 1) / 2.0 * pixel / sx
    origin = grid.index_to_physical((0.0, y0, x0))
    g = grid.geometry
    geometry = Geometry((pixel, pixel, g.spacing[2]), tuple(origin), g.direction)
    return Grid((nz, h, w), geometry), float(pixel)


def parse_thickness(meta: Mapping[str, Any] | None) -> float | None:
    """DICOM SliceThickness from reader metadata (string or number), or None."""
    if not meta:
        return None
    raw = meta.get("SliceThickness", meta.get("slice_thickness"))
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"SliceThickness must be a number, got {raw!r}") from None
    if not value > 0:
        raise ValueError(f"SliceThickness must be positive, got {value}")
    return value


def slice_stack(
    image: sitk.Image,
    config: SliceConfig | None = None,
    slice_thickness: float | None = None,
) -> SliceStack:
    """The model's slice stack of a 3D HU image (see the module docstring)."""
    config = config or SliceConfig()
    if image.GetDimension() != 3 or image.GetNumberOfComponentsPerPixel() != 1:
        raise ValueError("slice_stack needs a scalar 3D image (z, y, x) in HU")
    grid = Grid.from_sitk(image)
    spacing, ascending = slice_normal_spacing(grid.geometry)
    target, pixel = model_slice_grid(grid, config.slice_shape)
    sx, sy, _ = grid.geometry.spacing
    sigma = (0.0, max(0.0, (pixel / sy - 1) / 2), max(0.0, (pixel / sx - 1) / 2))
    src = sitk.Cast(image, sitk.sitkFloat32)
    if max(sigma) > 0:
        smooth = ndimage.gaussian_filter(sitk.GetArrayViewFromImage(src), sigma, mode="nearest")
        src = grid.image(smooth.astype(np.float32))
    hu = resample(src, target, "linear", AIR_HU).astype(np.float32)
    order = np.arange(grid.shape[0]) if ascending else np.arange(grid.shape[0])[::-1].copy()
    hu = hu[order]
    images = normalise(window_channels(hu, config.windows), config.normalisation)
    thickness = float(slice_thickness) if slice_thickness else spacing
    return SliceStack(images, hu, grid, target, order, spacing, thickness, pixel, config)
