"""write_case: a valid CT series that SimpleITK and pydicom read back exactly."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian

from .helpers import read_series


@pytest.mark.parametrize("fixture", ["written_512", "written_128"])
def test_series_loads_as_volume(fixture, request):
    case, record = request.getfixturevalue(fixture)
    img = read_series(record["path"])
    nz, ny, nx = case.volume_hu.shape
    assert img.GetSize() == (nx, ny, nz)
    assert img.GetSpacing() == pytest.approx(case.spacing, abs=1e-4)
    assert img.GetOrigin() == pytest.approx(case.origin, abs=1e-4)
    assert img.GetDirection() == pytest.approx(case.direction, abs=1e-6)
    assert np.array_equal(sitk.GetArrayFromImage(img), case.volume_hu)


@pytest.mark.parametrize("fixture", ["written_512", "written_128"])
def test_mask_nifti_lines_up(fixture, request):
    case, record = request.getfixturevalue(fixture)
    assert Path(record["mask_path"]).name == f"{case.case_id}_mask.nii.gz"
    img = read_series(record["path"])
    msk = sitk.ReadImage(record["mask_path"])
    assert msk.GetSize() == img.GetSize()
    assert msk.GetSpacing() == pytest.approx(img.GetSpacing(), abs=1e-4)
    assert msk.GetOrigin() == pytest.approx(img.GetOrigin(), abs=1e-4)
    assert msk.GetDirection() == pytest.approx(img.GetDirection(), abs=1e-6)
    m = sitk.GetArrayFromImage(msk)
    assert np.array_equal(m, case.mask)
    hu = sitk.GetArrayFromImage(img)[m > 0]
    assert m.sum() > 0
    assert 50.0 <= hu.mean() <= 80.0
    # resampling the mask onto the series (physical space) changes nothing
    res = sitk.Resample(msk, img, sitk.Transform(), sitk.sitkNearestNeighbor, 0)
    assert np.array_equal(sitk.GetArrayFromImage(res), m)


def test_every_file_is_valid_ct(written_512):
    case, record = written_512
    files = sorted(Path(record["path"]).glob("IM*.dcm"))
    assert [f.name for f in files] == [f"IM{k + 1:04d}.dcm" for k in range(case.n_slices)]
    assert record["n_slices"] == case.n_slices
    sops, zs = set(), []
    for k, f in enumerate(files):
        ds = pydicom.dcmread(f)
        assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
        assert ds.file_meta.MediaStorageSOPClassUID == CTImageStorage == ds.SOPClassUID
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.Modality == "CT"
        assert list(ds.ImageType) == ["ORIGINAL", "PRIMARY", "AXIAL"]
        assert ds.StudyInstanceUID == record["study_instance_uid"]
        assert ds.SeriesInstanceUID == record["series_instance_uid"]
        for uid in (
            ds.StudyInstanceUID,
            ds.SeriesInstanceUID,
            ds.SOPInstanceUID,
            ds.FrameOfReferenceUID,
        ):
            assert UID(uid).is_valid
        sops.add(ds.SOPInstanceUID)
        assert int(ds.InstanceNumber) == k + 1
        assert [float(x) for x in ds.ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
        assert [float(x) for x in ds.PixelSpacing] == pytest.approx(case.spacing[:2])
        assert float(ds.SliceThickness) == pytest.approx(case.slice_thickness)
        assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation) == (
            16,
            12,
            11,
            0,
        )
        assert ds.PhotometricInterpretation == "MONOCHROME2"
        assert ds.SamplesPerPixel == 1
        assert (float(ds.RescaleIntercept), float(ds.RescaleSlope)) == (-1024.0, 1.0)
        assert (float(ds.WindowCenter), float(ds.WindowWidth)) == (40.0, 80.0)
        assert ds.BurnedInAnnotation == "NO"
        assert ds.PatientPosition == "HFS"
        assert ds.Manufacturer
        assert ds.KVP
        hu = ds.pixel_array.astype(np.int32) * int(ds.RescaleSlope) + int(ds.RescaleIntercept)
        assert np.array_equal(hu, case.volume_hu[k])
        ipp = [float(x) for x in ds.ImagePositionPatient]
        assert ipp[:2] == pytest.approx(case.origin[:2], abs=1e-4)
        zs.append(ipp[2])
    assert len(sops) == case.n_slices
    assert np.allclose(np.diff(zs), case.spacing[2], atol=1e-3)  # inferior -> superior
    assert zs[0] == pytest.approx(case.origin[2], abs=1e-4)


def test_identifying_attributes_written(written_128):
    """The synthetic identity (what de-identification must remove) is in every file."""
    case, record = written_128
    ds = pydicom.dcmread(sorted(Path(record["path"]).glob("*.dcm"))[0])
    for key, value in case.patient.items():
        assert str(ds.data_element(key).value) == str(value), key
    assert ds.StudyDate == case.patient["StudyDate"]
    assert len(ds.StudyDate) == 8
    block = ds.private_block(0x0009, "READERSTUDY PHANTOM")
    assert block[0x10].value == case.patient["PatientID"]
    # distinctive values: easy to grep for after ingest
    assert case.patient["PatientID"].startswith("PX")
    assert len(case.patient["PatientID"]) == 10
    assert "^" in case.patient["PatientName"]
    # the ground truth is never written into the images
    raw = b"".join(p.read_bytes() for p in Path(record["path"]).glob("*.dcm"))
    assert b"cvst" not in raw.lower()
    assert b"sich" not in raw.lower()


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools not installed")
def test_dciodvfy_finds_no_errors(written_128):
    """The DICOM validator accepts the files as CT Image (warnings only)."""
    _, record = written_128
    first = sorted(Path(record["path"]).glob("*.dcm"))[0]
    proc = subprocess.run(["dciodvfy", str(first)], capture_output=True, text=True, check=False)
    report = proc.stdout + proc.stderr
    assert "CTImage" in report
    assert [line for line in report.splitlines() if line.startswith("Error")] == []
