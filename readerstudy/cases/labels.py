"""Ground-truth label CSV import, validated row by row, stored all-or-nothing.

Rows identify a case by ``case_code`` or by the *original* ``study_instance_uid`` (mapped with
the site's keyed UID remap, so the original UID is never stored). Columns:

- ``label``: binary etiology (e.g. ``cvst_ich`` / ``sich``); ``truth`` (0/1) is checked against it
  when both are given;
- optional ``ich_present`` (0/1), ``subtypes`` (``;``-separated), ``location``, ``site``,
  ``mask`` (path relative to the CSV: a NIfTI on the series grid, or a binary DICOM SEG
  referencing the case's series, original or de-identified UIDs), ``mask_segment`` (which
  segment of a SEG holding several) and any ``covariate:<name>``.

Only the resulting mask is stored (as NIfTI on the series grid): a SEG carries identifying
header data and is read, checked and dropped.
"""

import csv
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from django.conf import settings
from django.db import transaction

from .dicom import UIDRemapper
from .dicom.seg import SeriesGrid, is_dicom_file, seg_to_mask
from .errors import LabelError
from .models import Case, GroundTruth, HematomaMask, Series
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
    "mask_segment",
}


@dataclass
class _Row:
    number: int
    case: Case
    values: dict


def find_case(row: dict, remapper: UIDRemapper) -> Case | None:
    if row.get("case_code"):
        return Case.objects.filter(code=row["case_code"].strip()).first()
    uid = (row.get("study_instance_uid") or "").strip()
    if uid:
        source_key = hashlib.sha256(remapper.remap(uid).encode()).hexdigest()
        return Case.objects.filter(source_key=source_key).first()
    return None


def _reference_volume(series: Series) -> sitk.Image:
    with local_copy(series.volume) as volume_path:
        return sitk.ReadImage(str(volume_path))


def _nifti_mask(path: Path, case: Case) -> tuple[np.ndarray, bytes]:
    image = sitk.ReadImage(str(path))
    reference = _reference_volume(case.primary_series)
    if image.GetSize() != reference.GetSize():
        raise ValueError(
            f"mask size {image.GetSize()} differs from the series {reference.GetSize()}"
        )
    if not np.allclose(image.GetSpacing(), reference.GetSpacing(), atol=1e-3) or not np.allclose(
        image.GetOrigin(), reference.GetOrigin(), atol=1e-2
    ):
        raise ValueError("mask geometry (spacing/origin) differs from the series")
    return (sitk.GetArrayFromImage(image) > 0).astype(np.uint8), path.read_bytes()


def series_grid(series: Series) -> SeriesGrid:
    """The stored series' identity and slice positions, for checking a SEG against it."""
    rows = list(series.instances.order_by("position").values_list("sop_instance_uid", "metadata"))
    try:
        positions = np.array([[float(v) for v in md["00200032"]["Value"]] for _, md in rows])
    except (KeyError, TypeError, ValueError):
        raise ValueError("the series' slices have no ImagePositionPatient") from None
    return SeriesGrid(
        study_uid=series.study_instance_uid,
        series_uid=series.series_instance_uid,
        frame_of_reference_uid=series.frame_of_reference_uid,
        rows=series.rows,
        columns=series.columns,
        pixel_spacing=(series.pixel_spacing_row, series.pixel_spacing_col),
        orientation=tuple(float(v) for v in series.orientation),
        positions=positions.reshape(len(rows), 3),
        sop_uids=tuple(uid for uid, _ in rows),
    )


def _seg_mask(
    path: Path, case: Case, remapper: UIDRemapper, segment: int | None
) -> tuple[np.ndarray, bytes]:
    """A binary SEG as (mask, NIfTI bytes on the series grid); the SEG itself is not kept."""
    series = case.primary_series
    array = seg_to_mask(path, series_grid(series), remapper.remap, segment=segment)
    image = sitk.GetImageFromArray(array)
    image.CopyInformation(_reference_volume(series))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "mask.nii.gz"
        sitk.WriteImage(image, str(out), useCompression=True)
        return array, out.read_bytes()


def _mask_array(
    path: Path, case: Case, remapper: UIDRemapper, segment: int | None = None
) -> tuple[np.ndarray, bytes]:
    if case.primary_series is None:
        raise ValueError("the case has no primary series")
    if is_dicom_file(path):
        return _seg_mask(path, case, remapper, segment)
    if segment is not None:
        raise ValueError("'mask_segment' applies to a DICOM SEG, not to a NIfTI mask")
    return _nifti_mask(path, case)


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
            case = find_case(row, remapper)
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
            segment = (row.get("mask_segment") or "").strip()
            if segment and not segment.isdigit():
                errors.append(f"row {number}: 'mask_segment' must be a segment number")
                segment = ""
            if mask_name:
                mask_path = (csv_path.parent / mask_name).resolve()
                if not mask_path.is_file():
                    errors.append(f"row {number}: mask file {mask_name!r} not found")
                else:
                    try:
                        masks[number] = _mask_array(
                            mask_path, case, remapper, int(segment) if segment else None
                        )
                    except (RuntimeError, ValueError) as exc:
                        errors.append(f"row {number}: mask {mask_name!r}: {exc}")
            elif segment:
                errors.append(f"row {number}: 'mask_segment' given without a 'mask'")
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
        _store_mask(row.case, mask)


def _store_mask(case: Case, mask: tuple[np.ndarray, bytes]) -> None:
    array, data = mask
    name, _ = save_content_addressed("masks", data, ".nii.gz")
    series = case.primary_series
    voxel_ml = series.pixel_spacing_row * series.pixel_spacing_col * series.slice_spacing / 1000
    HematomaMask.objects.update_or_create(
        case=case,
        defaults={
            "series": series,
            "file": name,
            "voxels": int(array.sum()),
            "volume_ml": float(array.sum() * voxel_ml),
        },
    )


def import_mask(case: Case, path: Path, *, segment: int | None = None) -> HematomaMask:
    """Check a mask file (binary DICOM SEG or NIfTI) against the case's primary series and
    store it as the case's hematoma mask (replacing an earlier one); the SEG is not kept."""
    remapper = UIDRemapper(deid_secret(), settings.READERSTUDY_UID_PREFIX)
    mask = _mask_array(Path(path), case, remapper, segment)
    with transaction.atomic():
        _store_mask(case, mask)
    return HematomaMask.objects.get(case=case)


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


__all__ = ["import_labels", "import_mask", "unknown_columns"]
