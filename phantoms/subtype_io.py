"""Write a subtype case: its CT series (one file per slice) and its label map.

The series carries the same header as the other phantom cases (``dicom_io.series_tags``)
plus the gantry tilt. The label map (0 = none, else ``subtypes.CODES``) lies on exactly
the series grid: NIfTI for an untilted series; for a tilted one NRRD, because NIfTI can
only hold an orthogonal grid and a tilted series' grid is sheared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import SimpleITK as sitk

from .dicom_io import series_private, series_tags
from .dicom_writer import UNSIGNED_12, SeriesUIDs, ct_slices, ds_text, write_slices
from .subtype_case import SubtypeCase


def series_uids(case: SubtypeCase) -> SeriesUIDs:
    u = case.uids
    return SeriesUIDs(
        u["study_instance_uid"], u["series_instance_uid"], u["frame_of_reference_uid"]
    )


def write_subtype_series(case: SubtypeCase, series_dir: Path) -> list[Path]:
    """IM0001.dcm ... one file per slice, inferior to superior."""
    tags = series_tags(case)
    tags["GantryDetectorTilt"] = ds_text(case.tilt_deg)
    datasets = ct_slices(
        case.volume_hu,
        case.grid.geometry(case.slice_thickness),
        series_uids(case),
        tags=tags,
        private=[series_private(case)],
        encoding=UNSIGNED_12,
    )
    return write_slices(datasets, series_dir)


def label_map_name(case: SubtypeCase) -> str:
    return f"{case.case_id}_mask.{'nrrd' if case.tilt_deg else 'nii.gz'}"


def write_label_map(case: SubtypeCase, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(case.label_map_sitk(), str(path), useCompression=True)
    return path


def write_subtype_case(case: SubtypeCase, out_dir: Path) -> dict[str, Any]:
    """Write ``out_dir/<case_id>/IM*.dcm`` and, with haemorrhage, the label map next to it."""
    out_dir = Path(out_dir)
    series_dir = out_dir / case.case_id
    paths = write_subtype_series(case, series_dir)
    mask = write_label_map(case, out_dir / label_map_name(case)) if case.ich_present else None
    return {
        "case_id": case.case_id,
        "n_slices": len(paths),
        "study_instance_uid": case.uids["study_instance_uid"],
        "series_instance_uid": case.uids["series_instance_uid"],
        "path": str(series_dir),
        "mask_path": str(mask) if mask else "",
        "sop_instance_uids": [series_uids(case).instance(k) for k in range(len(paths))],
    }
