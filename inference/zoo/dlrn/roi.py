# mypy: disable-error-code="import-untyped"
"""The haematoma ROI on the seed's 0.5 x 0.5 x 5 mm grid and its largest axial slice.

The ROI is the given mask, or, when there is none, the mask of the seed-000 segmenter
(``cvst_ich_demo``'s segmentation stage, its small detached components dropped). The deep
branch's input is the axial slice of the resampled grid with the largest haematoma area: a
square crop centred on that slice's haematoma, brain window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import SimpleITK as sitk

from .radiomics_features import RoiError, as_images

if TYPE_CHECKING:
    from ...pipeline import CVSTICHPipeline

SPACING = (0.5, 0.5, 5.0)  # (x, y, z) mm, seed 001
CROP = 128  # pixels of the deep branch's input (64 mm at 0.5 mm)
WINDOW = (40.0, 80.0)  # brain window: level, width (HU)
SEGMENTER = "cvst_ich_demo"  # the seed-000 segmenter used when no mask is given


@dataclass(frozen=True)
class LargestSlice:
    pixels: np.ndarray  # float32 (CROP, CROP) in [0, 1]
    area_mm2: float
    index: int  # slice index on the resampled ROI grid
    n_slices: int


@dataclass(frozen=True)
class SegmenterRoi:
    mask: sitk.Image  # uint8 on the input grid
    components_found: int
    components_kept: int
    voxels_dropped: int


def haematoma_components(mask: np.ndarray, min_fraction: float) -> tuple[np.ndarray, int, int]:
    """``mask`` without the connected components smaller than ``min_fraction`` of the
    largest (the seed-000 pipeline's own ROI rule: specks on the skull or the sinuses are
    segmentation noise, several sizeable bleeds all stay). Returns (mask, found, kept)."""
    from scipy import ndimage

    labels, n = ndimage.label(mask > 0)
    if n <= 1:
        return (mask > 0).astype(np.uint8), int(n), int(n)
    sizes = np.bincount(labels.ravel())[1:]
    keep = np.flatnonzero(sizes >= min_fraction * sizes.max()) + 1
    return np.isin(labels, keep).astype(np.uint8), int(n), int(keep.size)


def segmenter() -> CVSTICHPipeline:
    """The loaded seed-000 segmenter (``cvst_ich_demo``'s two-stage pipeline)."""
    from ...bundle import BundleModel
    from ...manifest import ModelLoadError
    from ...registry import get_model

    model = get_model(SEGMENTER)
    if not isinstance(model, BundleModel):
        raise ModelLoadError(f"{SEGMENTER} is registered as {type(model).__name__}, not a bundle")
    return model.load()


def segmenter_mask(
    image: sitk.Image, threads: int | None = None, pipeline: CVSTICHPipeline | None = None
) -> SegmenterRoi:
    """The seed-000 segmenter's haematoma mask on ``image``'s grid: its segmentation stage
    only (the classifier is not needed), components below its ``roi_min_component_fraction``
    of the largest dropped. ``pipeline``: a loaded :func:`segmenter` to reuse."""
    pipeline = pipeline or segmenter()
    raw = pipeline.segmentation_mask(image, options={"threads": threads, "device": "cpu"})
    if not np.any(raw):
        raise RoiError(f"the segmenter ({SEGMENTER}) found no hematoma: give a mask")
    kept, found, n_kept = haematoma_components(raw, pipeline.cfg.roi_min_component_fraction)
    mask = sitk.GetImageFromArray(kept)
    mask.CopyInformation(image)
    return SegmenterRoi(mask, found, n_kept, int(raw.sum()) - int(kept.sum()))


def resampled_mask(image: sitk.Image, mask: sitk.Image) -> sitk.Image:
    """The mask (nearest neighbour) on the 0.5 x 0.5 x 5 mm grid, cropped to its bounding
    box with a margin: PyRadiomics' own resampling, whose grid depends on the mask alone;
    the image is not needed here (the radiomics resample it themselves), so the mask stands
    in for it and nothing is B-spline interpolated twice."""
    from radiomics import imageoperations

    _, msk = as_images(image, mask, None)
    _, out_msk = imageoperations.resampleImage(
        msk,
        msk,
        resampledPixelSpacing=list(SPACING),
        interpolator=sitk.sitkNearestNeighbor,
        padDistance=2,
    )
    if int(sitk.GetArrayViewFromImage(out_msk).sum()) == 0:
        raise RoiError("the ROI vanishes on the 0.5 x 0.5 x 5 mm grid (too small)")
    resampled: sitk.Image = out_msk
    return resampled


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
