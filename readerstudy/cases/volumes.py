"""Cached volumes for workers: the series as NIfTI, and resampled variants made on demand.

Variants: ``iso1`` (1 mm isotropic, the reference model's main setting) and ``z5`` (5 mm along
z, in-plane 1 mm, its alternative setting). Each is computed once and stored content-addressed;
the series row remembers it in ``variants`` so later calls reuse it.

The series' own volume keeps the acquired grid, sheared for a tilted gantry (stored as
MetaImage, ``cases.dicom.series``); its variants are on an orthogonal grid (rows, table axis;
:func:`inference.geometry.orthogonal_direction`) that covers the same physical region, so they
are plain NIfTI like any other.
"""

import tempfile
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from inference.geometry import orthogonal_direction

from .models import Series
from .storage import local_copy, save_content_addressed

VARIANTS = {"iso1": (1.0, 1.0, 1.0), "z5": (1.0, 1.0, 5.0)}


def resample(image: sitk.Image, spacing: tuple[float, float, float]) -> sitk.Image:
    """Linear resampling onto a grid with ``spacing`` that covers the same physical extent
    (an orthogonal grid around a sheared one)."""
    direction = orthogonal_direction(image.GetDirection())
    if direction == tuple(image.GetDirection()):
        origin = image.GetOrigin()
        size = [
            max(1, round(n * s / t))
            for n, s, t in zip(image.GetSize(), image.GetSpacing(), spacing)
        ]
    else:
        origin, size = _covering(image, direction, spacing)
    return sitk.Resample(
        image, size, sitk.Transform(), sitk.sitkLinear, origin, spacing,
        direction, -1024.0, image.GetPixelID(),
    )  # fmt: skip


def _covering(
    image: sitk.Image, direction: tuple[float, ...], spacing: tuple[float, float, float]
) -> tuple[tuple[float, ...], list[int]]:
    """Origin and size of the grid along ``direction`` that holds every voxel of ``image``."""
    axes = np.asarray(direction, dtype=float).reshape(3, 3)
    last = np.asarray(image.GetSize()) - 1
    corners = np.array(
        [
            image.TransformContinuousIndexToPhysicalPoint([float(c) for c in last * np.array(b)])
            for b in np.ndindex(2, 2, 2)
        ]
    )
    local = corners @ axes  # coordinates along the new axes
    low, high = local.min(axis=0), local.max(axis=0)
    size = [max(1, int(np.ceil((h - lo) / t - 1e-6)) + 1) for lo, h, t in zip(low, high, spacing)]
    return tuple(float(v) for v in axes @ low), size


def variant_volume(series: Series, variant: str) -> str:
    """Storage name of the series resampled as ``variant`` (computed on first use)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown volume variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    cached = (series.variants or {}).get(variant)
    if cached:
        return cached
    with local_copy(series.volume) as path:
        image = sitk.ReadImage(str(path))
    resampled = resample(image, VARIANTS[variant])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "v.nii.gz"
        sitk.WriteImage(resampled, str(out), useCompression=True)
        name, _ = save_content_addressed("volumes", out.read_bytes(), ".nii.gz")
    Series.objects.filter(pk=series.pk).update(variants={**(series.variants or {}), variant: name})
    series.variants = {**(series.variants or {}), variant: name}
    return name
