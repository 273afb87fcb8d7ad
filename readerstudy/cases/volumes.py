"""Cached volumes for workers: the series as NIfTI, and resampled variants made on demand.

Variants: ``iso1`` (1 mm isotropic, the reference model's main setting) and ``z5`` (5 mm along
z, in-plane 1 mm, its alternative setting). Each is computed once and stored content-addressed;
the series row remembers it in ``variants`` so later calls reuse it.
"""

import tempfile
from pathlib import Path

import SimpleITK as sitk

from .models import Series
from .storage import local_copy, save_content_addressed

VARIANTS = {"iso1": (1.0, 1.0, 1.0), "z5": (1.0, 1.0, 5.0)}


def resample(image: sitk.Image, spacing: tuple[float, float, float]) -> sitk.Image:
    """Linear resampling onto a grid with ``spacing`` that covers the same physical extent."""
    size = [
        max(1, round(n * s / t)) for n, s, t in zip(image.GetSize(), image.GetSpacing(), spacing)
    ]
    return sitk.Resample(
        image, size, sitk.Transform(), sitk.sitkLinear, image.GetOrigin(), spacing,
        image.GetDirection(), -1024.0, image.GetPixelID(),
    )  # fmt: skip


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
