"""Write a case as a CT Image Storage series (one file per slice) plus a NIfTI mask.

The attribute set follows the check in inference-and-deid.md section 4.3 (passes
``dciodvfy``): explicit VR little endian, 12-bit unsigned pixels with RescaleIntercept
-1024, per-slice ImagePositionPatient, a shared FrameOfReferenceUID.  The identifying
attributes come from ``case.patient`` and one private block repeats the PatientID, as
real scanners do, so de-identification has something to remove.  Nothing depends on the
wall clock: the same case gives the same bytes.  The files are written by
:mod:`phantoms.dicom_writer`; this module only says what a phantom case puts in them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import SimpleITK as sitk
from pydicom.dataset import Dataset

from .case import GENERATOR_VERSION, PhantomCase
from .dicom_writer import (
    UNSIGNED_12,
    Geometry,
    PrivateBlock,
    SeriesUIDs,
    ct_slices,
    ds_text,
    write_slices,
)

PRIVATE_CREATOR = "READERSTUDY PHANTOM"

_PATIENT_KEYS = (
    "AccessionNumber",
    "InstitutionName",
    "InstitutionAddress",
    "ReferringPhysicianName",
    "StationName",
    "PerformingPhysicianName",
    "OperatorsName",
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "PatientAge",
    "PatientAddress",
    "PatientTelephoneNumbers",
    "DeviceSerialNumber",
    "StudyID",
)


class Described(Protocol):
    """What the series header is made of: a synthetic patient and acquisition."""

    @property
    def patient(self) -> dict[str, Any]: ...

    @property
    def acquisition(self) -> dict[str, Any]: ...


def series_tags(case: Described) -> dict[str, object]:
    """The descriptive attributes every slice of the case's series carries."""
    p, acq = case.patient, case.acquisition
    tags: dict[str, object] = {
        "SpecificCharacterSet": "ISO_IR 100",
        "ImageType": ["ORIGINAL", "PRIMARY", "AXIAL"],
    }
    for key in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate"):
        tags[key] = p["StudyDate"]
    for key in ("StudyTime", "SeriesTime", "AcquisitionTime", "ContentTime"):
        tags[key] = p["StudyTime"]
    tags["Manufacturer"] = acq["Manufacturer"]
    tags["ManufacturerModelName"] = acq["ManufacturerModelName"]
    tags["SoftwareVersions"] = acq["SoftwareVersions"]
    tags.update({key: p[key] for key in _PATIENT_KEYS})
    tags.update(
        {
            "StudyDescription": "CT HEAD WITHOUT CONTRAST",
            "SeriesDescription": acq["SeriesDescription"],
            "BodyPartExamined": "HEAD",
            "KVP": acq["KVP"],
            "DataCollectionDiameter": "250",
            "ReconstructionDiameter": ds_text(acq["ReconstructionDiameter"]),
            "GantryDetectorTilt": "0",
            "TableHeight": ds_text(acq["TableHeight"]),
            "RotationDirection": "CW",
            "ExposureTime": str(acq["ExposureTime"]),
            "XRayTubeCurrent": str(acq["XRayTubeCurrent"]),
            "ConvolutionKernel": acq["ConvolutionKernel"],
            "PatientPosition": "HFS",
            "SeriesNumber": str(acq["SeriesNumber"]),
            "AcquisitionNumber": "1",
            "PositionReferenceIndicator": "",
            "WindowCenter": "40",
            "WindowWidth": "80",
            "BurnedInAnnotation": "NO",
            "LossyImageCompression": "00",
        }
    )
    return tags


def series_private(case: Described) -> PrivateBlock:
    """The scanner-style private block: the PatientID again, and the generator version."""
    return PrivateBlock(
        0x0009,
        PRIVATE_CREATOR,
        {0x10: ("LO", case.patient["PatientID"]), 0x11: ("LO", f"phantoms {GENERATOR_VERSION}")},
    )


def series_geometry(case: PhantomCase) -> Geometry:
    d = case.direction  # SimpleITK: the columns are the x, y, z axis directions
    return Geometry(
        origin=case.origin,
        pixel_spacing=(case.spacing[1], case.spacing[0]),
        slice_spacing=case.spacing[2],
        orientation=(d[0], d[3], d[6], d[1], d[4], d[7]),
        slice_thickness=case.slice_thickness,
    )


def series_uids(case: PhantomCase) -> SeriesUIDs:
    u = case.uids
    return SeriesUIDs(
        u["study_instance_uid"], u["series_instance_uid"], u["frame_of_reference_uid"]
    )


def series_datasets(case: PhantomCase) -> list[Dataset]:
    """The case's series, one dataset per slice, inferior to superior."""
    return ct_slices(
        case.volume_hu,
        series_geometry(case),
        series_uids(case),
        tags=series_tags(case),
        private=[series_private(case)],
        encoding=UNSIGNED_12,
    )


def write_series(case: PhantomCase, series_dir: Path) -> list[Path]:
    """IM0001.dcm ... one file per slice, inferior to superior."""
    return write_slices(series_datasets(case), series_dir)


def write_mask(case: PhantomCase, path: Path) -> Path:
    """The haematoma mask as NIfTI on exactly the series grid (SimpleITK geometry)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(case.mask_sitk(), str(path), useCompression=True)
    return path


def write_case(case: PhantomCase, out_dir: Path) -> dict[str, Any]:
    """Write ``out_dir/<case_id>/IM*.dcm`` and ``out_dir/<case_id>_mask.nii.gz``."""
    out_dir = Path(out_dir)
    series_dir = out_dir / case.case_id
    paths = write_series(case, series_dir)
    mask_path = write_mask(case, out_dir / f"{case.case_id}_mask.nii.gz")
    return {
        "case_id": case.case_id,
        "label": case.label,
        "truth": case.truth,
        "n_slices": len(paths),
        "study_instance_uid": case.uids["study_instance_uid"],
        "series_instance_uid": case.uids["series_instance_uid"],
        "path": str(series_dir),
        "mask_path": str(mask_path),
    }
