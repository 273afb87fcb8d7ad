"""Ground-truth label CSV import, validated row by row, stored all-or-nothing.

Rows identify a case by ``case_code`` or by the *original* ``study_instance_uid`` (mapped with
the site's keyed UID remap, so the original UID is never stored). Columns:

- ``label``: binary etiology (e.g. ``cvst_ich`` / ``sich``); ``truth`` (0/1) is checked against it
  when both are given;
- optional ``ich_present`` (0/1), ``subtypes`` (``;``-separated), ``location``, ``site``,
  ``mask`` (NIfTI path relative to the CSV, on the series grid) and any ``covariate:<name>``.
"""

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from django.conf import settings
from django.db import transaction

from .dicom import UIDRemapper
from .errors import LabelError
from .models import Case, GroundTruth, HematomaMask
from .secrets import deid_secret
from .storage import local_copy, save_content_addressed

KNOWN = {
    "case_code",
    "study_instance_uid",
    "label",
    "truth",
    "ich_present",
    "subtypes",
    "location",
    "site",
    "mask",
}


@dataclass
class _Row:
    number: int
    case: Case
    values: dict


def _find_case(row: dict, remapper: UIDRemapper) -> Case | None:
    if row.get("case_code"):
        return Case.objects.filter(code=row["case_code"].strip()).first()
    uid = (row.get("study_instance_uid") or "").strip()
    if uid:
        source_key = hashlib.sha256(remapper.remap(uid).encode()).hexdigest()
        return Case.objects.filter(source_key=source_key).first()
    return None


def _mask_array(path: Path, case: Case) -> tuple[np.ndarray, bytes]:
    image = sitk.ReadImage(str(path))
    series = case.primary_series
    with local_copy(series.volume) as volume_path:
        reference = sitk.ReadImage(str(volume_path))
    if image.GetSize() != reference.GetSize():
        raise ValueError(
            f"mask size {image.GetSize()} differs from the series {reference.GetSize()}"
        )
    if not np.allclose(image.GetSpacing(), reference.GetSpacing(), atol=1e-3) or not np.allclose(
        image.GetOrigin(), reference.GetOrigin(), atol=1e-2
    ):
        raise ValueError("mask geometry (spacing/origin) differs from the series")
    return (sitk.GetArrayFromImage(image) > 0).astype(np.uint8), path.read_bytes()


def import_labels(csv_path: Path, *, require_all: bool = True) -> int:
    """Validate every row, then store all of them; returns the number of cases labelled."""
    remapper = UIDRemapper(deid_secret(), settings.READERSTUDY_UID_PREFIX)
    errors: list[str] = []
    rows: list[_Row] = []
    masks: dict[int, tuple[np.ndarray, bytes]] = {}
    with open(csv_path, newline="") as handle:
        reader = csv.DictReader(handle)
        header = set(reader.fieldnames or [])
        if not ({"case_code", "study_instance_uid"} & header) or "label" not in header:
            raise LabelError(
                ["the CSV needs a 'label' column and 'case_code' or 'study_instance_uid'"]
            )
        for number, row in enumerate(reader, start=2):
            case = _find_case(row, remapper)
            if case is None:
                if require_all:
                    errors.append(f"row {number}: no imported case matches this row")
                continue
            label = (row.get("label") or "").strip()
            if not label:
                errors.append(f"row {number}: 'label' is empty")
            truth = (row.get("truth") or "").strip()
            if truth and truth not in ("0", "1"):
                errors.append(f"row {number}: 'truth' must be 0 or 1, got {truth!r}")
            ich = (row.get("ich_present") or "").strip()
            if ich and ich not in ("0", "1"):
                errors.append(f"row {number}: 'ich_present' must be 0 or 1, got {ich!r}")
            mask_name = (row.get("mask") or "").strip()
            conventional = f"{(row.get('case_id') or '').strip()}_mask.nii.gz"
            if not mask_name and row.get("case_id") and (csv_path.parent / conventional).is_file():
                mask_name = conventional  # the phantom generator's layout
            if mask_name:
                mask_path = (csv_path.parent / mask_name).resolve()
                if not mask_path.is_file():
                    errors.append(f"row {number}: mask file {mask_name!r} not found")
                else:
                    try:
                        masks[number] = _mask_array(mask_path, case)
                    except (RuntimeError, ValueError) as exc:
                        errors.append(f"row {number}: mask: {exc}")
            rows.append(_Row(number, case, row))
    if errors:
        raise LabelError(errors)
    with transaction.atomic():
        for row in rows:
            _store(row, masks.get(row.number))
    return len(rows)


def _store(row: _Row, mask) -> None:
    v = {k: (val or "").strip() for k, val in row.values.items() if k}
    GroundTruth.objects.update_or_create(
        case=row.case,
        defaults={
            "etiology": v.get("label", ""),
            "ich_present": None if not v.get("ich_present") else v["ich_present"] == "1",
            "subtypes": [s for s in v.get("subtypes", "").split(";") if s],
            "location": v.get("location", ""),
            "covariates": {
                k.split(":", 1)[1]: val for k, val in v.items() if k.startswith("covariate:")
            },
            "source": "label csv",
        },
    )
    if v.get("site"):
        row.case.site = v["site"]
        row.case.save(update_fields=["site"])
    if mask is not None:
        array, data = mask
        name, _ = save_content_addressed("masks", data, ".nii.gz")
        series = row.case.primary_series
        voxel_ml = series.pixel_spacing_row * series.pixel_spacing_col * series.slice_spacing / 1000
        HematomaMask.objects.update_or_create(
            case=row.case,
            defaults={"series": series, "file": name, "voxels": int(array.sum()),
                      "volume_ml": float(array.sum() * voxel_ml)},
        )  # fmt: skip


def unknown_columns(csv_path: Path) -> list[str]:
    with open(csv_path, newline="") as handle:
        header = next(csv.reader(handle), [])
    return [
        h
        for h in header
        if h not in KNOWN
        and not h.startswith("covariate:")
        and h not in ("case_id", "series_instance_uid")
    ]


__all__ = ["import_labels", "unknown_columns"]
