"""One case's inputs to the signatures: radiomic features and the largest ROI slice."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import SimpleITK as sitk

from .radiomics_features import PARAMS, extract_radiomics
from .roi import LargestSlice, largest_slice, resampled_mask


@dataclass
class CaseFeatures:
    radiomics: dict[str, float]
    largest: LargestSlice
    timings: dict[str, float] = field(default_factory=dict)


def case_features(image: sitk.Image, mask: sitk.Image, params: str | Path = PARAMS) -> CaseFeatures:
    t = time.perf_counter()
    roi_mask = resampled_mask(image, mask)
    sl = largest_slice(image, roi_mask)
    t_roi = time.perf_counter() - t
    t = time.perf_counter()
    rad = extract_radiomics(image, mask, params=params)
    return CaseFeatures(rad, sl, {"roi_resample": t_roi, "radiomics": time.perf_counter() - t})
