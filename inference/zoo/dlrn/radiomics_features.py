# mypy: disable-error-code="import-untyped"
"""Handcrafted (PyRadiomics) features of one ROI, as seed 001 extracts them.

:func:`extract_radiomics` is the one entry point, also used to compare the features of
several annotators' masks (feature reliability, ICC). The parameters live in the model
bundle's ``radiomics.yaml``: original + wavelet images; shape, first order, GLCM, GLDM,
GLRLM, GLSZM and NGTDM classes; the image and mask resampled by PyRadiomics to the seed's
0.5 x 0.5 x 5 mm (B-spline for the image, nearest neighbour for the mask), cropped to the
mask with a margin first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk

PARAMS = Path(__file__).resolve().parents[2] / "models" / "cvt_hematoma_dlrn" / "radiomics.yaml"


class RoiError(ValueError):
    """The mask cannot be used as an ROI (empty, too small, or not on the image's grid)."""


def _as_image(
    value: sitk.Image | np.ndarray, spacing: Sequence[float] | None, what: str
) -> sitk.Image:
    if isinstance(value, sitk.Image):
        return value
    arr = np.asarray(value)
    if arr.ndim != 3:
        raise RoiError(f"{what} must be a 3D (z, y, x) array or a SimpleITK image, got {arr.shape}")
    if spacing is None or len(spacing) != 3 or min(float(s) for s in spacing) <= 0:
        raise RoiError(f"{what}: an array needs spacing (x, y, z) in mm, got {spacing!r}")
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing(tuple(float(s) for s in spacing))
    return img


def as_images(
    image: sitk.Image | np.ndarray, mask: sitk.Image | np.ndarray, spacing: Sequence[float] | None
) -> tuple[sitk.Image, sitk.Image]:
    """(float32 image, uint8 binary mask) on one grid; arrays are (z, y, x) with ``spacing``."""
    img = sitk.Cast(_as_image(image, spacing, "image"), sitk.sitkFloat32)
    if isinstance(mask, np.ndarray) and isinstance(image, sitk.Image):
        msk = _as_image(mask, img.GetSpacing(), "mask")
        if msk.GetSize() == img.GetSize():
            msk.CopyInformation(img)
    else:
        msk = _as_image(mask, spacing, "mask")
    if msk.GetSize() != img.GetSize():
        raise RoiError(f"mask size {msk.GetSize()} differs from image size {img.GetSize()}")
    msk = sitk.Cast(msk > 0, sitk.sitkUInt8)
    if not np.allclose(msk.GetSpacing(), img.GetSpacing(), atol=1e-4) or not np.allclose(
        msk.GetOrigin(), img.GetOrigin(), atol=1e-3
    ):
        raise RoiError("mask is not on the image's grid (spacing or origin differ)")
    msk.CopyInformation(img)
    if int(sitk.GetArrayViewFromImage(msk).sum()) == 0:
        raise RoiError("the ROI mask is empty")
    return img, msk


def extractor(params: str | Path = PARAMS) -> Any:
    """PyRadiomics' extractor for ``params``, its diagnostics off (``additionalInfo``: they
    are never returned, and hashing the whole series for them cost a second per case)."""
    import radiomics
    from radiomics import featureextractor

    radiomics.setVerbosity(logging.ERROR)  # its import resets the level to WARNING

    return featureextractor.RadiomicsFeatureExtractor(str(params), additionalInfo=False)


def extract_radiomics(
    image_sitk_or_array: sitk.Image | np.ndarray,
    mask: sitk.Image | np.ndarray,
    spacing: Sequence[float] | None = None,
    *,
    params: str | Path = PARAMS,
) -> dict[str, float]:
    """PyRadiomics features of ``mask`` on ``image_sitk_or_array`` (HU).

    ``image_sitk_or_array``: a SimpleITK image, or a (z, y, x) array whose voxel size is
    ``spacing`` (x, y, z) mm, SimpleITK order; ``mask``: same grid, nonzero = ROI (an array
    with a SimpleITK image takes the image's geometry). Returns ``{name: value}`` in
    PyRadiomics' order and naming (``original_glcm_Contrast``,
    ``wavelet-LHL_firstorder_Mean``, ...), diagnostics left out; 851 features with the
    shipped parameters. Raises :class:`RoiError` for an unusable ROI.
    """
    from threadpoolctl import threadpool_limits

    img, msk = as_images(image_sitk_or_array, mask, spacing)
    try:
        # One BLAS thread: PyRadiomics' linear algebra is many small matrices (GLCM MCC's
        # eigenvalues, 13 angles x Ng x Ng), where BLAS threads only wait for each other
        # (7x slower with 2 OpenBLAS threads on 2 busy cores).
        with threadpool_limits(limits=1, user_api="blas"):
            result = extractor(params).execute(img, msk, label=1)
    except ValueError as exc:  # PyRadiomics' own ROI checks
        raise RoiError(f"PyRadiomics refused the ROI: {exc}") from exc
    return {
        str(k): float(np.asarray(v, dtype=float).reshape(-1)[0])
        for k, v in result.items()
        if not str(k).startswith("diagnostics_")
    }
