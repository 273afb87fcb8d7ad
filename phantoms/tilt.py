"""Slice planes of an axial head series, optionally acquired with a tilted gantry.

A tilted gantry rotates the image plane about the patient's left-right (x) axis while the
table still advances along z. Tilted head CT series record this the way scanners write it:

* ImageOrientationPatient holds the tilted plane: rows along +x, columns along
  ``(0, cos t, -sin t)`` (a positive tilt here lifts the anterior end of the plane, as a
  scan along the orbitomeatal line does);
* ImagePositionPatient holds each slice's true position, which moves with the table, along
  z by the table increment, not along the slice normal;
* GantryDetectorTilt (0018,1120) holds the nominal angle.

So the slice positions do not lie on a line along the normal and the voxel grid is sheared
(by ``tan t`` in the column direction per slice spacing). Readers that assume an orthogonal
grid misplace such series; ITK's ImageSeriesReader reads them correctly with
``ForceOrthogonalDirectionOff`` (added to ITK for gantry-tilted CT), and MITK's tilted
reference data describe them as "image positions that do not share a line along the image
normal direction (tilted gantry CT)". Each image row has one y and one z, which is what
the renderer relies on. With a tilt of 0 this is the plain axial grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .dicom_writer import Geometry, Orientation

MAX_TILT_DEG = 30.0

Vector = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SliceGrid:
    """The voxel grid of a series: ``n`` slices of ``matrix`` x ``matrix`` pixels.

    Slice ``k`` is centred on the gantry axis at table position ``z0 + k * dz``.
    """

    matrix: int
    px: float  # pixel spacing (rows and columns), mm
    n: int
    z0: float  # table position (patient z) of the centre of slice 0
    dz: float  # table increment between slices, mm
    tilt_deg: float = 0.0

    def __post_init__(self) -> None:
        if not abs(self.tilt_deg) <= MAX_TILT_DEG:
            raise ValueError(f"tilt must be within +-{MAX_TILT_DEG:g} degrees")

    @property
    def _angle(self) -> float:
        return math.radians(self.tilt_deg)

    @property
    def orientation(self) -> Orientation:
        """ImageOrientationPatient: rows along x, columns tilted about x."""
        t = self._angle
        return (1.0, 0.0, 0.0, 0.0, math.cos(t), -math.sin(t) + 0.0)

    @property
    def step(self) -> tuple[float, float, float]:
        """Patient-space vector from slice k to slice k + 1 (the table feed)."""
        return (0.0, 0.0, self.dz)

    @property
    def half_width(self) -> float:
        return (self.matrix - 1) * self.px / 2.0

    def position(self, k: int) -> Vector:
        """ImagePositionPatient (centre of the first pixel) of slice ``k``."""
        col = np.asarray(self.orientation[3:], dtype=np.float64)
        centre = np.array([0.0, 0.0, self.z0 + k * self.dz])
        out: Vector = centre - self.half_width * (np.array([1.0, 0.0, 0.0]) + col)
        return out

    @property
    def origin(self) -> tuple[float, float, float]:
        x, y, z = (round(float(v), 4) for v in self.position(0))
        return (x, y, z)

    def coords(self) -> Vector:
        """Offsets (mm) of the pixel centres along a row or a column from the first one."""
        out: Vector = self.px * np.arange(self.matrix, dtype=np.float64)
        return out

    def row_yz(self, k: int) -> tuple[Vector, Vector]:
        """Patient y and z of every image row of slice ``k`` (constant along a row)."""
        t = self._angle
        o = self.origin
        off = self.coords()
        z0 = o[2] + k * self.dz
        return o[1] + off * math.cos(t), z0 - off * math.sin(t)

    def x(self) -> Vector:
        """Patient x of every image column."""
        out: Vector = self.origin[0] + self.coords()
        return out

    @property
    def spacing(self) -> tuple[float, float, float]:
        """SimpleITK spacing: pixel, pixel, and the length of the slice step."""
        return (self.px, self.px, self.dz)

    @property
    def direction(self) -> tuple[float, ...]:
        """SimpleITK direction (row-major 3x3, columns = i, j, k axes); sheared when tilted."""
        o = self.orientation
        cols = np.array([o[:3], o[3:], (0.0, 0.0, 1.0)], dtype=np.float64).T
        return tuple(float(v) for v in cols.ravel())

    def plane_spacing(self) -> float:
        """Distance between neighbouring slice planes along their normal."""
        return self.dz * math.cos(self._angle)

    def geometry(self, slice_thickness: float) -> Geometry:
        """The writer's geometry: positions advance along the table, not the normal."""
        return Geometry(
            origin=self.origin,
            pixel_spacing=(self.px, self.px),
            slice_spacing=self.dz,
            orientation=self.orientation,
            slice_thickness=slice_thickness,
            step=(0.0, 0.0, 1.0) if self.tilt_deg else None,
        )
