"""Reads of a case's truth lesions, as the plain data ``analysis.froc_scoring`` scores."""

from __future__ import annotations

import SimpleITK as sitk

from readerstudy.analysis.froc_scoring import Geometry, Lesion, mask_lesions

from .models import Case, HematomaMask, TruthLesion
from .storage import local_copy


def mask_geometry(mask: HematomaMask) -> tuple[list[Lesion], Geometry]:
    """The components of a stored hematoma mask, numbered as ``extract_mask_lesions`` numbers
    them (largest first, so the numbering does not depend on ``min_voxels``)."""
    with local_copy(mask.file) as path:
        image = sitk.ReadImage(str(path))
    return mask_lesions(
        sitk.GetArrayFromImage(image), image.GetOrigin(), image.GetSpacing(), image.GetDirection()
    )


def case_lesions(case: Case | int) -> list[Lesion]:
    rows = TruthLesion.objects.filter(case=case).order_by("lesion_id")
    return [
        Lesion(
            r.lesion_id,
            (r.x_mm, r.y_mm, r.z_mm),
            r.weight,
            r.radius_mm,
            r.component,
            r.voxels,
        )
        for r in rows
    ]


def case_geometry(case: Case | int) -> Geometry | None:
    """The label map of the case's hematoma mask, or None without a mask."""
    mask = HematomaMask.objects.filter(case=case).first()
    return None if mask is None else mask_geometry(mask)[1]
