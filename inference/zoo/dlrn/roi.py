# mypy: disable-error-code="import-untyped"
"""The haematoma ROI on the seed's 0.5 x 0.5 x 5 mm grid and its largest axial slice.

The ROI is the given mask, or, when there is none, the mask of the seed-000 segmenter
(``cvst_ich_demo`` run through its plug-in). The deep branch's input is the axial slice
of the resampled grid with the largest haematoma area: a square crop centred on that
slice's haematoma, brain window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from .radiomics_features import RoiError, as_images

SPACING = (0.5, 0.5, 5.0)  # (x, y, z) mm, seed 001
CROP = 128  # pixels of the deep branch's input (64 mm at 0.5 mm)
WINDOW = (40.0, 80.0)  # brain window: level, width (HU)


@dataclass(frozen=True)
class LargestSlice:
    pixels: np.ndarray  # float32 (CROP, CROP) in [0, 1]
    area_mm2: float
    index: int  # slice index on the resampled ROI grid
    n_slices: int


def segmenter_mask(image: sitk.Image, threads: int | None = None) -> sitk.Image:
    """The seed-000 segmenter's haematoma mask on ``image``'s grid."""
    from ...registry import get_model

    pred = get_model("cvst_ich_demo").predict(image, options={"threads": threads, "device": "cpu"})
    if pred.mask is None or not np.any(pred.mask):
        raise RoiError("the segmenter (cvst_ich_demo) found no haematoma: give a mask")
    mask = sitk.GetImageFromArray(pred.mask.astype(np.uint8))
    mask.CopyInformation(image)
    return mask


def resampled_roi(image: sitk.Image, mask: sitk.Image) -> tuple[sitk.Image, sitk.Image]:
    """Image (B-spline) and mask (nearest) on the 0.5 x 0.5 x 5 mm grid, cropped to the
    mask's bounding box with a margin (PyRadiomics' own resampling)."""
    from radiomics import imageoperations

    img, msk = as_images(image, mask, None)
    out_img, out_msk = imageoperations.resampleImage(
        img, msk, resampledPixelSpacing=list(SPACING), interpolator=sitk.sitkBSpline, padDistance=2
    )
    if int(sitk.GetArrayViewFromImage(out_msk).sum()) == 0:
        raise RoiError("the ROI vanishes on the 0.5 x 0.5 x 5 mm grid (too small)")
    return out_img, out_msk


def largest_slice(image: sitk.Image, roi_mask: sitk.Image) -> LargestSlice:
    """The ``CROP`` x ``CROP`` brain-window crop of the slice with the largest ROI area."""
    m = sitk.GetArrayViewFromImage(roi_mask) > 0
    areas = m.reshape(m.shape[0], -1).sum(axis=1)
    k = int(np.argmax(areas))
    ys, xs = np.nonzero(m[k])
    centre = roi_mask.TransformContinuousIndexToPhysicalPoint(
        (float(xs.mean()), float(ys.mean()), float(k))
    )
    direction = np.array(image.GetDirection()).reshape(3, 3)
    half = (CROP - 1) / 2 * SPACING[0]
    origin = np.array(centre) - direction @ np.array([half, half, 0.0])
    ref = sitk.Image(CROP, CROP, 1, sitk.sitkFloat32)
    ref.SetSpacing(SPACING)
    ref.SetOrigin(tuple(float(v) for v in origin))
    ref.SetDirection(image.GetDirection())
    img = sitk.Cast(image, sitk.sitkFloat32)
    hu = sitk.GetArrayFromImage(
        sitk.Resample(img, ref, sitk.Transform(), sitk.sitkLinear, -1024.0)
    )[0]
    level, width = WINDOW
    pixels = np.clip((hu - (level - width / 2)) / width, 0.0, 1.0).astype(np.float32)
    return LargestSlice(
        pixels=pixels,
        area_mm2=float(areas[k]) * SPACING[0] * SPACING[1],
        index=k,
        n_slices=int(m.shape[0]),
    )
