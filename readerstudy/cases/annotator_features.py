"""Radiomic features of every annotator mask, in the long format the ICC analysis reads.

One row per mask and feature: ``case, rater, session, feature, value`` (the input of
``python -m readerstudy.analysis icc``). The features are the DLRN plug-in's
(``inference.zoo.dlrn.radiomics_features.extract_radiomics``, PyRadiomics with the model's
parameters), so the reliability measured is that of the features the model selects from.
"""

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk

from .models import AnnotatorMask, Series
from .storage import local_copy

COLUMNS = ("case", "rater", "session", "feature", "value")
#: (image, mask, spacing) -> {feature: value}; images as SimpleITK images on one grid
Extractor = Callable[[sitk.Image, sitk.Image, Sequence[float] | None], dict[str, float]]


class FeatureError(ValueError):
    """A mask's features cannot be computed (the message names the mask)."""


def radiomics_extractor(params: Path | None = None) -> Extractor:
    """The DLRN plug-in's extractor, with its parameters or those of ``params`` (YAML)."""
    from inference.zoo.dlrn.radiomics_features import extract_radiomics

    def extract(image: sitk.Image, mask: sitk.Image, spacing: Any = None) -> dict[str, float]:
        if params is None:
            return extract_radiomics(image, mask, spacing)
        return extract_radiomics(image, mask, spacing, params=params)

    return extract


def _read(name: str) -> sitk.Image:
    with local_copy(name) as path:
        return sitk.ReadImage(str(path))


def feature_rows(masks: Iterable[AnnotatorMask], extractor: Extractor) -> Iterator[dict]:
    """The long-format rows of each mask's features, masks in the order given."""
    return mask_feature_rows(
        (
            (mask.series, mask.file, mask.case.code, mask.annotator, mask.session, str(mask))
            for mask in masks
        ),
        extractor,
    )


def mask_feature_rows(
    items: Iterable[tuple[Series, str, str, str, Any, str]], extractor: Extractor
) -> Iterator[dict]:
    """The long-format rows of the features of each ``(series, mask file, case code, rater,
    session, label)``, in the order given (``label`` names the mask in errors); a mask is a
    NIfTI on its series' grid. Masks of one series in a row share one read of its volume."""
    images: dict[int, sitk.Image] = {}
    for series, file, case, rater, session, label in items:
        if series.pk not in images:
            images.clear()  # one series' volume at a time
            images[series.pk] = _read(series.volume)
        image = images[series.pk]
        roi = _read(file)
        roi.CopyInformation(image)
        try:
            values = extractor(image, roi, image.GetSpacing())
        except ValueError as exc:
            raise FeatureError(f"{label}: {exc}") from exc
        for feature, value in values.items():
            value = float(value)
            if not np.isfinite(value):
                raise FeatureError(f"{label}: feature {feature!r} is not a finite number")
            yield {
                "case": case,
                "rater": rater,
                "session": session,
                "feature": feature,
                "value": repr(value),
            }


def write_features(path: Path, rows: Iterable[dict]) -> int:
    """Write the rows as CSV (written to a temporary name first); returns the row count."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    count = 0
    try:
        with open(partial, "w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=COLUMNS)
            writer.writeheader()
            for row in rows:
                writer.writerow(row)
                count += 1
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return count
