"""Voxel grids and their physical geometry, in SimpleITK (LPS) conventions.

Arrays are always ``(z, y, x)`` (SimpleITK's ``GetArrayFromImage`` order). Spacing, origin
and direction are in ITK order ``(x, y, z)``; ``direction`` is the row-major 3x3 matrix whose
columns are the physical directions of the x, y and z index axes (LPS, as DICOM stores them).

Every model-space grid (resampled volume, crop, ROI patch) is a :class:`Grid`: crops and
pads only move the origin, so mapping any output back onto the original DICOM grid is one
``sitk.Resample`` onto the reference grid with an identity transform - no offset bookkeeping
that could drift.

A series acquired with a tilted gantry has a *sheared* grid: its x and y axes (rows and
columns of the image plane) are orthonormal, its z axis (slice to slice) steps along the table,
off the plane's normal by the tilt. Its direction keeps that z axis as it is (unit length, not
orthogonal; ``Geometry.shear_deg`` is the tilt), which SimpleITK resamples from and onto
exactly. Model grids are always orthogonal (:func:`orthogonal_direction`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import SimpleITK as sitk

IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
MAX_SHEAR_DEG = 60.0  # a sheared grid's z axis within this angle of the plane's normal
_TOL = 1e-3
_LPS_FROM_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass(frozen=True)
class Geometry:
    """Physical placement of a voxel array: spacing/origin/direction in ITK (x, y, z) order."""

    spacing: tuple[float, float, float]
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: tuple[float, ...] = field(default=IDENTITY)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spacing", tuple(float(v) for v in self.spacing))
        object.__setattr__(self, "origin", tuple(float(v) for v in self.origin))
        direction = tuple(float(v) for v in np.asarray(self.direction, dtype=float).ravel())
        object.__setattr__(self, "direction", direction)
        if len(self.spacing) != 3 or len(self.origin) != 3 or len(self.direction) != 9:
            raise ValueError("geometry needs 3 spacings, 3 origin values and a 3x3 direction")
        if min(self.spacing) <= 0:
            raise ValueError(f"spacing must be positive, got {self.spacing}")
        d = self.direction_matrix
        if (
            np.any(np.abs(np.linalg.norm(d, axis=0) - 1.0) > _TOL)
            or abs(float(d[:, 0] @ d[:, 1])) > _TOL
            or self.shear_deg > MAX_SHEAR_DEG
        ):
            raise ValueError(
                "direction must be orthonormal, or sheared (unit columns, x and y orthogonal,"
                f" z within {MAX_SHEAR_DEG:g} degrees of their normal)"
            )

    @property
    def direction_matrix(self) -> np.ndarray:
        return np.asarray(self.direction, dtype=float).reshape(3, 3)

    @property
    def shear_deg(self) -> float:
        """Angle between the z axis and the normal of the x-y plane (0: orthogonal grid)."""
        d = self.direction_matrix
        normal = np.cross(d[:, 0], d[:, 1])
        cosang = abs(float(normal @ d[:, 2])) / max(float(np.linalg.norm(normal)), 1e-12)
        return float(np.degrees(np.arccos(min(1.0, cosang))))

    @property
    def is_orthogonal(self) -> bool:
        return bool(self.shear_deg <= np.degrees(_TOL))

    @property
    def voxel_volume(self) -> float:
        """mm^3 per voxel (a sheared voxel is smaller than the product of its spacings)."""
        return float(np.prod(self.spacing) * abs(np.linalg.det(self.direction_matrix)))

    @classmethod
    def from_sitk(cls, image: sitk.Image) -> Geometry:
        return cls(image.GetSpacing(), image.GetOrigin(), image.GetDirection())

    @classmethod
    def from_affine(cls, affine: np.ndarray, convention: str = "ras") -> Geometry:
        """From a 4x4 voxel-to-world affine whose voxel indices are in (x, y, z) order.

        ``convention="ras"`` is nibabel's (NIfTI) world space; ``"lps"`` is ITK/DICOM's.
        The matching array is the nibabel data transposed to (z, y, x).
        """
        a = np.asarray(affine, dtype=float)
        if a.shape != (4, 4):
            raise ValueError(f"affine must be 4x4, got {a.shape}")
        if convention == "ras":
            a = _LPS_FROM_RAS @ a
        elif convention != "lps":
            raise ValueError("convention must be 'ras' or 'lps'")
        spacing = np.linalg.norm(a[:3, :3], axis=0)
        return cls(tuple(spacing), tuple(a[:3, 3]), tuple((a[:3, :3] / spacing).ravel()))

    def to_affine(self, convention: str = "ras") -> np.ndarray:
        a = np.eye(4)
        a[:3, :3] = self.direction_matrix * np.asarray(self.spacing)
        a[:3, 3] = self.origin
        if convention == "ras":
            a = _LPS_FROM_RAS @ a
        elif convention != "lps":
            raise ValueError("convention must be 'ras' or 'lps'")
        return a

    def close_to(self, other: Geometry, tol: float = 1e-4) -> bool:
        return (
            np.allclose(self.spacing, other.spacing, atol=tol)
            and np.allclose(self.origin, other.origin, atol=tol)
            and np.allclose(self.direction, other.direction, atol=tol)
        )


@dataclass(frozen=True)
class Grid:
    """A voxel grid: array shape (z, y, x) plus its geometry."""

    shape: tuple[int, int, int]
    geometry: Geometry

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(v) for v in self.shape))
        if len(self.shape) != 3 or min(self.shape) < 1:
            raise ValueError(f"grid shape must be 3 positive ints (z, y, x), got {self.shape}")

    @classmethod
    def from_sitk(cls, image: sitk.Image) -> Grid:
        if image.GetDimension() != 3:
            raise ValueError(f"expected a 3D image, got {image.GetDimension()}D")
        return cls(tuple(reversed(image.GetSize())), Geometry.from_sitk(image))

    def image(self, array: np.ndarray | None = None, dtype: npt.DTypeLike = np.uint8) -> sitk.Image:
        """A SimpleITK image on this grid holding ``array`` (z, y, x), or zeros."""
        if array is None:
            array = np.zeros(self.shape, dtype=dtype)
        if tuple(array.shape) != self.shape:
            raise ValueError(f"array shape {array.shape} does not match grid {self.shape}")
        img = sitk.GetImageFromArray(np.ascontiguousarray(array))
        img.SetSpacing(self.geometry.spacing)
        img.SetOrigin(self.geometry.origin)
        img.SetDirection(self.geometry.direction)
        return img

    def index_to_physical(self, index_zyx: npt.ArrayLike) -> np.ndarray:
        """Continuous (z, y, x) index -> physical LPS point (x, y, z)."""
        ijk = np.asarray(index_zyx, dtype=float)[::-1]
        g = self.geometry
        point: np.ndarray = np.asarray(g.origin) + g.direction_matrix @ (
            ijk * np.asarray(g.spacing)
        )
        return point

    def physical_to_index(self, point: npt.ArrayLike) -> np.ndarray:
        """Physical LPS point -> continuous (z, y, x) index (sheared grids included)."""
        g = self.geometry
        offset = np.asarray(point, float) - np.asarray(g.origin)
        ijk = np.linalg.solve(g.direction_matrix, offset)
        index: np.ndarray = (ijk / np.asarray(g.spacing))[::-1]
        return index

    def subgrid(self, start_zyx: npt.ArrayLike, shape_zyx: Any) -> Grid:
        """The grid of ``array[start:start+shape]`` (start may be negative: padding)."""
        origin = self.index_to_physical(start_zyx)
        g = self.geometry
        return Grid(tuple(shape_zyx), Geometry(g.spacing, tuple(origin), g.direction))

    def same_as(self, other: Grid, tol: float = 1e-4) -> bool:
        return self.shape == other.shape and self.geometry.close_to(other.geometry, tol)


def orthogonal_direction(direction: tuple[float, ...]) -> tuple[float, ...]:
    """The orthonormal direction nearest a sheared grid's, for resampling it.

    x stays the image rows' direction, z the slice step made orthogonal to x (for a gantry
    tilt, the table axis), y completes them with the same handedness: a tilted head CT comes
    out as the untilted scan would have been. An orthonormal direction is returned as it is.
    """
    d = np.asarray(direction, dtype=float).reshape(3, 3)
    x = d[:, 0] / np.linalg.norm(d[:, 0])
    z = d[:, 2] - (d[:, 2] @ x) * x
    z /= np.linalg.norm(z)
    y = d[:, 1] - (d[:, 1] @ x) * x - (d[:, 1] @ z) * z
    y /= np.linalg.norm(y)
    out = np.column_stack([x, y, z])
    if np.allclose(out, d, atol=1e-9):
        return tuple(float(v) for v in d.ravel())
    return tuple(float(v) for v in out.ravel())


_INTERPOLATORS = {
    "linear": sitk.sitkLinear,
    "nearest": sitk.sitkNearestNeighbor,
    "bspline": sitk.sitkBSpline,
}


def resample(
    image: sitk.Image, grid: Grid, interpolator: str = "linear", default: float = 0.0
) -> np.ndarray:
    """Sample ``image`` on ``grid`` (identity transform, physical space); returns (z, y, x)."""
    if interpolator not in _INTERPOLATORS:
        raise ValueError(f"interpolator must be one of {sorted(_INTERPOLATORS)}")
    out = sitk.Resample(
        image,
        grid.image(),
        sitk.Transform(),
        _INTERPOLATORS[interpolator],
        float(default),
        image.GetPixelID(),
    )
    return sitk.GetArrayFromImage(out)


def to_grid(
    array: np.ndarray,
    source: Grid,
    target: Grid,
    interpolator: str = "linear",
    default: float = 0.0,
) -> np.ndarray:
    """Map an array living on ``source`` onto ``target`` (e.g. patch -> DICOM grid)."""
    if source.same_as(target, tol=1e-6):
        return np.array(array, copy=True)
    src = source.image(np.asarray(array, dtype=np.float32))
    return resample(src, target, interpolator, default)


def as_image(volume: np.ndarray, geometry: Geometry) -> sitk.Image:
    if volume.ndim != 3:
        raise ValueError(f"volume must be 3D (z, y, x), got shape {volume.shape}")
    return Grid(volume.shape, geometry).image(volume)


def input_image(volume: Any, geometry: Any = None) -> sitk.Image:
    """Normalise ``predict``'s input to a float32 SimpleITK image (HU).

    Accepted: a ``SimpleITK.Image`` (geometry omitted); or a (z, y, x) array plus one of a
    ``SimpleITK.Image`` whose geometry to copy (e.g. the image a mask came from), a
    :class:`Geometry`, or a 4x4 voxel-to-world affine in nibabel's RAS convention whose
    voxel axes are (x, y, z) - i.e. ``nibabel_img.affine`` with ``data.T`` as the volume.
    """
    if isinstance(volume, sitk.Image):
        if geometry is not None:
            raise ValueError("pass geometry only with a numpy volume, not with a SimpleITK image")
        image = volume
    else:
        arr = np.asarray(volume)
        if arr.ndim != 3:
            raise ValueError(f"volume must be 3D (z, y, x), got shape {arr.shape}")
        if geometry is None:
            raise ValueError(
                "geometry is required with a numpy volume: a SimpleITK image, a Geometry "
                "(spacing/origin/direction) or a 4x4 RAS affine"
            )
        if isinstance(geometry, sitk.Image):
            if tuple(reversed(geometry.GetSize())) != arr.shape:
                raise ValueError(
                    f"reference image size {geometry.GetSize()} (x, y, z) does not match "
                    f"volume shape {arr.shape} (z, y, x)"
                )
            geometry = Geometry.from_sitk(geometry)
        elif not isinstance(geometry, Geometry):
            geometry = Geometry.from_affine(np.asarray(geometry), convention="ras")
        image = as_image(arr.astype(np.float32, copy=False), geometry)
    if image.GetDimension() != 3 or image.GetNumberOfComponentsPerPixel() != 1:
        raise ValueError("expected a scalar 3D image")
    out: sitk.Image = sitk.Cast(image, sitk.sitkFloat32)
    return out
