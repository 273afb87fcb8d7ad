"""Reads of a case's truth lesions, as the plain data ``analysis.froc_scoring`` scores."""

from __future__ import annotations

import SimpleITK as sitk
from django.db.models import Count, Max, Min, Q

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


def lesion_overview() -> list[dict]:
    """Per case of the library: its truth lesions (count, source, weights) and whether it has
    a hematoma mask to derive them from; cases with neither are left out."""
    rows = (
        Case.objects.annotate(
            n_lesions=Count("truth_lesions"),
            source=Max("truth_lesions__source"),
            min_weight=Min("truth_lesions__weight"),
            max_weight=Max("truth_lesions__weight"),
        )
        .filter(Q(n_lesions__gt=0) | Q(hematoma_mask__isnull=False))
        .values("code", "n_lesions", "source", "min_weight", "max_weight", "hematoma_mask")
        .order_by("code")
    )
    labels = dict(TruthLesion.Source.choices)
    out = []
    for row in rows:
        has_mask = row.pop("hematoma_mask") is not None
        out.append({**row, "has_mask": has_mask, "source_label": labels.get(row["source"] or "")})
    return out
