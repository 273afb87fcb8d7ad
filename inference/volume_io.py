"""Reading CT inputs (DICOM series directory or NIfTI/other ITK file) and writing NIfTI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import SimpleITK as sitk

# Non-identifying series tags echoed into the provenance (DICOM keyword -> tag).
SAFE_TAGS = {
    "Modality": "0008|0060",
    "Manufacturer": "0008|0070",
    "ManufacturerModelName": "0008|1090",
    "KVP": "0018|0060",
    "SliceThickness": "0018|0050",
    "ConvolutionKernel": "0018|1210",
}


def read_dicom_series(
    directory: str | Path, series_uid: str | None = None
) -> tuple[sitk.Image, dict[str, Any]]:
    """Read one series with ImageSeriesReader (files sorted by GDCM). With several series in
    the folder, ``series_uid`` picks one; otherwise the series with the most files is used."""
    directory = str(directory)
    ids = sitk.ImageSeriesReader.GetGDCMSeriesIDs(directory)
    if not ids:
        raise ValueError(f"no DICOM series found in {directory}")
    if series_uid is not None:
        if series_uid not in ids:
            raise ValueError(f"series {series_uid} not in {directory}")
        chosen = series_uid
    else:
        chosen = max(
            ids, key=lambda s: len(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(directory, s))
        )
    files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(directory, chosen)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(files)
    reader.MetaDataDictionaryArrayUpdateOn()
    image = reader.Execute()
    meta: dict[str, Any] = {
        "source": "dicom",
        "n_files": len(files),
        "n_series_in_folder": len(ids),
    }
    for key, tag in SAFE_TAGS.items():
        if reader.HasMetaDataKey(0, tag):
            meta[key] = reader.GetMetaData(0, tag).strip()
    return image, meta


def read_input(path: str | Path) -> tuple[sitk.Image, dict[str, Any]]:
    """``(image, meta)`` from a DICOM directory or an image file (NIfTI, NRRD, MHA...)."""
    path = Path(path)
    if path.is_dir():
        return read_dicom_series(path)
    if not path.is_file():
        raise FileNotFoundError(f"input not found: {path}")
    return sitk.ReadImage(str(path)), {"source": "file", "format": "".join(path.suffixes)}


def write_image(image: sitk.Image, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path), useCompression=True)
    return path
