"""Write a case as a CT Image Storage series (one file per slice) plus a NIfTI mask.

The attribute set follows the check in inference-and-deid.md section 4.3 (passes
``dciodvfy``): explicit VR little endian, 12-bit unsigned pixels with RescaleIntercept
-1024, per-slice ImagePositionPatient, a shared FrameOfReferenceUID.  The identifying
attributes come from ``case.patient`` and one private block repeats the PatientID, as
real scanners do, so de-identification has something to remove.  Nothing depends on the
wall clock: the same case gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

from .case import GENERATOR_VERSION, PhantomCase
from .uids import IMPLEMENTATION_UID, sop_instance_uid

PRIVATE_CREATOR = "READERSTUDY PHANTOM"


def _ds(value: float) -> str:
    """Decimal string, at most 16 characters, exactly as used for the geometry."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _common(case: PhantomCase) -> Dataset:
    """Attributes shared by every slice of the series."""
    p, acq, uids = case.patient, case.acquisition, case.uids
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CTImageStorage
    for tag in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate"):
        setattr(ds, tag, p["StudyDate"])
    for tag in ("StudyTime", "SeriesTime", "AcquisitionTime", "ContentTime"):
        setattr(ds, tag, p["StudyTime"])
    ds.Modality = "CT"
    ds.Manufacturer = acq["Manufacturer"]
    ds.ManufacturerModelName = acq["ManufacturerModelName"]
    ds.SoftwareVersions = acq["SoftwareVersions"]
    for key in (
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
    ):
        setattr(ds, key, p[key])
    ds.StudyDescription = "CT HEAD WITHOUT CONTRAST"
    ds.SeriesDescription = acq["SeriesDescription"]
    ds.BodyPartExamined = "HEAD"
    ds.SliceThickness = _ds(case.slice_thickness)
    ds.KVP = acq["KVP"]
    ds.DataCollectionDiameter = "250"
    ds.ReconstructionDiameter = _ds(acq["ReconstructionDiameter"])
    ds.GantryDetectorTilt = "0"
    ds.TableHeight = _ds(acq["TableHeight"])
    ds.RotationDirection = "CW"
    ds.ExposureTime = str(acq["ExposureTime"])
    ds.XRayTubeCurrent = str(acq["XRayTubeCurrent"])
    ds.ConvolutionKernel = acq["ConvolutionKernel"]
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = uids["study_instance_uid"]
    ds.SeriesInstanceUID = uids["series_instance_uid"]
    ds.SeriesNumber = str(acq["SeriesNumber"])
    ds.AcquisitionNumber = "1"
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.FrameOfReferenceUID = uids["frame_of_reference_uid"]
    ds.PositionReferenceIndicator = ""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = int(case.volume_hu.shape[1]), int(case.volume_hu.shape[2])
    ds.PixelSpacing = [_ds(case.spacing[1]), _ds(case.spacing[0])]  # row, column spacing
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.WindowCenter = "40"
    ds.WindowWidth = "80"
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    block = ds.private_block(0x0009, PRIVATE_CREATOR, create=True)
    block.add_new(0x10, "LO", p["PatientID"])
    block.add_new(0x11, "LO", f"phantoms {GENERATOR_VERSION}")
    return ds


def write_series(case: PhantomCase, series_dir: Path) -> list[Path]:
    """IM0001.dcm ... one file per slice, inferior to superior."""
    series_dir.mkdir(parents=True, exist_ok=True)
    common = _common(case)
    ox, oy = _ds(case.origin[0]), _ds(case.origin[1])
    stored = (case.volume_hu.astype(np.int32) + 1024).clip(0, 4095).astype("<u2")
    paths = []
    for k in range(case.n_slices):
        sop = sop_instance_uid(case.uids["series_instance_uid"], k)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = sop
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = IMPLEMENTATION_UID
        meta.ImplementationVersionName = "RS_PHANTOM_1"
        ds = Dataset()
        ds.update(common)
        ds.file_meta = meta
        ds.SOPInstanceUID = sop
        ds.InstanceNumber = str(k + 1)
        z = _ds(case.slice_z(k))
        ds.ImagePositionPatient = [ox, oy, z]
        ds.SliceLocation = z
        ds.PixelData = stored[k].tobytes()
        path = series_dir / f"IM{k + 1:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def write_mask(case: PhantomCase, path: Path) -> Path:
    """The haematoma mask as NIfTI on exactly the series grid (SimpleITK geometry)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(case.mask_sitk(), str(path), useCompression=True)
    return path


def write_case(case: PhantomCase, out_dir: Path) -> dict:
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
