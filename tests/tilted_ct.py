"""CT series acquired with a tilted gantry, resampled from one untilted volume.

A tilted gantry tilts the image plane about the patient's left-right (x) axis while the table
still advances along z: rows run along +x, columns along ``(0, cos t, -sin t)`` and the slice
positions step along z, so the grid is sheared. :func:`sheared_grid` samples an axial volume on
such a grid (linear interpolation, air outside); with ``tilt_deg=0`` it is the volume's own
grid. The slices are written by the project's synthetic-CT writer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from pydicom.dataset import Dataset

from phantoms.dicom_writer import Geometry, SeriesUIDs, ct_slices, write_slices


@dataclass(frozen=True)
class TiltedSeries:
    volume_hu: np.ndarray  # (slices, rows, columns)
    geometry: Geometry  # the writer's geometry (positions step along z)
    image: sitk.Image  # the same grid in SimpleITK (sheared direction when tilted)


def sheared_grid(axial: sitk.Image, tilt_deg: float) -> TiltedSeries:
    """``axial`` (identity direction) sampled on a gantry-tilted grid covering it.

    Same pixel spacing, rows, columns and table increment as ``axial``; enough extra slices
    that the tilted planes still cover the whole volume.
    """
    px, _, dz = axial.GetSpacing()
    cols, rows, n = axial.GetSize()
    t = math.radians(tilt_deg)
    col = (0.0, math.cos(t), -math.sin(t) + 0.0)
    n_tilted = n + math.ceil((rows - 1) * px * abs(math.sin(t)) / dz - 1e-9)
    x0, y0, z0 = axial.GetOrigin()
    # slice 0's first row lies on the lowest plane of the volume (rows descend when t > 0)
    origin = (x0, y0, z0 if t >= 0 else z0 - (rows - 1) * px * math.sin(-t))
    direction = np.column_stack([(1.0, 0.0, 0.0), col, (0.0, 0.0, 1.0)])
    reference = sitk.Image(cols, rows, n_tilted, sitk.sitkFloat32)
    reference.SetSpacing((px, px, dz))
    reference.SetOrigin(origin)
    reference.SetDirection(tuple(float(v) for v in direction.ravel()))
    image = sitk.Resample(
        sitk.Cast(axial, sitk.sitkFloat32), reference, sitk.Transform(), sitk.sitkLinear, -1024.0
    )
    geometry = Geometry(
        origin=tuple(float(v) for v in origin),
        pixel_spacing=(px, px),
        slice_spacing=dz,
        orientation=(1.0, 0.0, 0.0, *col),
        slice_thickness=dz * math.cos(t),
        step=(0.0, 0.0, 1.0) if tilt_deg else None,
    )
    return TiltedSeries(sitk.GetArrayFromImage(image), geometry, image)


def series_datasets(
    series: TiltedSeries, key: str, *, reverse_numbers: bool = False
) -> list[Dataset]:
    """One dataset per slice; ``reverse_numbers``: InstanceNumber runs against the geometry."""
    n = series.volume_hu.shape[0]
    per_slice: Sequence[dict[str, object]] = (
        [{"InstanceNumber": str(n - k)} for k in range(n)] if reverse_numbers else ()
    )
    tags = {
        "PatientID": "TILT-1",
        "PatientName": "TILT^PHANTOM",
        "ImageType": ["ORIGINAL", "PRIMARY", "AXIAL"],
        "SeriesNumber": "2",
        "StudyDate": "20240102",
    }
    return ct_slices(
        np.rint(series.volume_hu), series.geometry, SeriesUIDs.derived(key), tags=tags,
        per_slice=per_slice,
    )  # fmt: skip


def write_shuffled(datasets: Sequence[Dataset], folder: Path, seed: int = 0) -> list[Path]:
    """The slices under file names in a random order (names say nothing about geometry)."""
    order = np.random.default_rng(seed).permutation(len(datasets))
    names = [f"IM{int(order[k]):04d}.dcm" for k in range(len(datasets))]
    return write_slices(datasets, folder, names)
