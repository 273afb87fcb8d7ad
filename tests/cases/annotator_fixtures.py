"""Imported phantom cases with masks written as three annotators' would be (shared by the
annotator-mask tests)."""

from pathlib import Path

import numpy as np
import SimpleITK as sitk
from django.conf import settings

from readerstudy.cases.ingest import import_study

MEDIA = Path(settings.STORAGES["default"]["OPTIONS"]["location"])


def series_image(case) -> sitk.Image:
    return sitk.ReadImage(str(MEDIA / case.primary_series.volume))


def phantom_mask(out: Path, case_id: str) -> np.ndarray:
    image = sitk.ReadImage(str(out / f"{case_id}_mask.nii.gz"))
    return (sitk.GetArrayFromImage(image) > 0).astype(np.uint8)


def write_mask(path: Path, array: np.ndarray, case) -> Path:
    image = sitk.GetImageFromArray(array.astype(np.uint8))
    image.CopyInformation(series_image(case))
    sitk.WriteImage(image, str(path), useCompression=True)
    return path


def dilated(mask: np.ndarray) -> np.ndarray:
    image = sitk.BinaryDilate(sitk.GetImageFromArray(mask.astype(np.uint8)), (1, 1, 0))
    return sitk.GetArrayFromImage(image).astype(np.uint8)


def mirrored(mask: np.ndarray) -> np.ndarray:
    """The mask mirrored left-right: an annotator who drew the other hemisphere."""
    return np.ascontiguousarray(mask[:, :, ::-1])


def import_cases(out: Path, records: list[dict]):
    return [import_study(out / r["case_id"]).case for r in records]


def annotated_cases(out: Path, records: list[dict]):
    """Two imported cases; per case A/1 = the phantom's mask, A/2 dilated, B/1 one slab less.

    Returns (cases, manifest rows ``case,annotator,session,date,path``)."""
    cases = import_cases(out, records)
    rows = []
    for case, record in zip(cases, records, strict=True):
        mask = phantom_mask(out, record["case_id"])
        trimmed = mask.copy()
        trimmed[np.nonzero(mask.any(axis=(1, 2)))[0][-1]] = 0
        for name, array in (("a1", mask), ("a2", dilated(mask)), ("b1", trimmed)):
            write_mask(out / f"{case.code}_{name}.nii.gz", array, case)
        rows += [
            f"{case.code},A,1,2024-01-10,{case.code}_a1.nii.gz",
            f"{case.code},A,2,2024-02-14,{case.code}_a2.nii.gz",
            f"{case.code},B,1,2024-01-12,{case.code}_b1.nii.gz",
        ]
    return cases, rows


def manifest(out: Path, rows: list[str], header: str = "case,annotator,session,date,path") -> Path:
    path = out / "manifest.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path
