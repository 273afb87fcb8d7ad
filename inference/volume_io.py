"""Reading CT inputs (DICOM series directory or NIfTI/other ITK file) and writing NIfTI.

A DICOM series is read in the order of its slice positions along the slice normal (never
file names or InstanceNumber). A series acquired with a tilted gantry is read on its sheared
grid (ITK's ``ForceOrthogonalDirectionOff``: the z axis steps along the table, off the normal
by the tilt), up to :data:`MAX_GANTRY_TILT_DEG`; ``predict`` resamples it onto its orthogonal
model grid and returns its outputs on that sheared input grid. ITK's NIfTI writer cannot hold
a shear, so images on a sheared grid are written with nibabel, the shear in the sform.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk

from .geometry import Geometry

#: tilts above this are refused (as the case library's importer does)
MAX_GANTRY_TILT_DEG = 30.0
#: tilts up to this are rounding of the positions: the series is read as untilted
TILT_TOL_DEG = 0.5

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
    files, tilt = _sorted_by_position(
        sitk.ImageSeriesReader.GetGDCMSeriesFileNames(directory, chosen)
    )
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(files)
    reader.MetaDataDictionaryArrayUpdateOn()
    if tilt > TILT_TOL_DEG:
        reader.ForceOrthogonalDirectionOff()  # the sheared grid, positions as acquired
    image = reader.Execute()
    meta: dict[str, Any] = {
        "source": "dicom",
        "n_files": len(files),
        "n_series_in_folder": len(ids),
        "gantry_tilt_deg": round(tilt, 2) if tilt > TILT_TOL_DEG else 0.0,
    }
    for key, tag in SAFE_TAGS.items():
        if reader.HasMetaDataKey(0, tag):
            meta[key] = reader.GetMetaData(0, tag).strip()
    return image, meta


def _sorted_by_position(files: tuple[str, ...] | list[str]) -> tuple[list[str], float]:
    """The files sorted by ``normal . ImagePositionPatient`` and the gantry tilt (degrees).

    Raises ValueError for a file without geometry or a tilt above the limit.
    """
    positions, normal = [], np.zeros(3)
    header = sitk.ImageFileReader()
    for name in files:
        header.SetFileName(name)
        header.ReadImageInformation()
        try:
            ipp = [float(v) for v in header.GetMetaData("0020|0032").split("\\")]
            iop = [float(v) for v in header.GetMetaData("0020|0037").split("\\")]
        except (RuntimeError, ValueError):
            raise ValueError(
                f"{Path(name).name} has no usable image position/orientation"
            ) from None
        normal = np.cross(iop[:3], iop[3:6])
        positions.append(ipp)
    pos = np.asarray(positions, dtype=float)
    order = np.argsort(pos @ normal, kind="stable")
    pos = pos[order]
    span = pos[-1] - pos[0]
    along = float(span @ normal)
    tilt = 0.0
    if len(files) > 1 and along > 0:
        tilt = float(np.degrees(np.arctan2(np.linalg.norm(span - along * normal), along)))
    if tilt > MAX_GANTRY_TILT_DEG:
        raise ValueError(
            f"gantry tilt of {tilt:.1f} degrees exceeds the {MAX_GANTRY_TILT_DEG:g} degree limit"
        )
    return [files[k] for k in order], tilt


def read_input(path: str | Path) -> tuple[sitk.Image, dict[str, Any]]:
    """``(image, meta)`` from a DICOM directory or an image file (NIfTI, NRRD, MHA...)."""
    path = Path(path)
    if path.is_dir():
        return read_dicom_series(path)
    if not path.is_file():
        raise FileNotFoundError(f"input not found: {path}")
    return sitk.ReadImage(str(path)), {"source": "file", "format": "".join(path.suffixes)}


def write_image(image: sitk.Image, path: str | Path) -> Path:
    """Write ``image``; a NIfTI file of a sheared grid carries the shear in its sform."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    geometry = Geometry.from_sitk(image)
    if geometry.is_orthogonal or not path.name.endswith((".nii", ".nii.gz")):
        sitk.WriteImage(image, str(path), useCompression=True)
        return path
    import nibabel as nib

    data = np.asarray(sitk.GetArrayFromImage(image)).transpose(2, 1, 0)  # (x, y, z)
    nii = nib.Nifti1Image(data, None)
    nii.set_sform(geometry.to_affine("ras"), code=1)  # scanner coordinates, shear kept
    nii.set_qform(None, code=0)  # a quaternion cannot hold a shear: readers use the sform
    nib.save(nii, str(path))
    return path
