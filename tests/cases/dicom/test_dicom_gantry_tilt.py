"""Gantry tilt: tilted series are accepted up to 30 degrees on their sheared grid, slices
ordered by geometry (never by file name or InstanceNumber); steeper tilts are refused."""

import math

import numpy as np
import pytest
import SimpleITK as sitk

from readerstudy.cases.dicom import ErrorCode, prepare_upload
from readerstudy.cases.dicom.series import (
    assemble_series,
    build_sitk_image,
    load_hu_volume,
    volume_suffix,
    write_nifti,
)

from . import dicom_synth as S

SECRET = b"0123456789abcdef-tilt"


def _tilted(tilt_deg: float, n: int = 8, **kw):
    """Positions step 5 mm along z while the image plane is tilted about x."""
    t = math.radians(tilt_deg)
    orientation = (1.0, 0.0, 0.0, 0.0, math.cos(t), -math.sin(t))
    return S.make_ct_series(n, orientation=orientation, step=(0.0, 0.0, 1.0), **kw)


def _one(series, labels=None):
    labels = labels or [f"IM{i:04d}.dcm" for i in range(len(series))]
    infos = assemble_series(list(zip(labels, series)))
    assert len(infos) == 1
    return infos[0]


def _z(ds) -> float:
    return float(ds.ImagePositionPatient[2])


@pytest.mark.parametrize("tilt", [10.0, 20.0])
def test_tilted_series_is_accepted_with_its_tilt(tilt):
    info = _one(_tilted(tilt))
    assert info.ok, info.errors
    assert info.gantry_tilt == pytest.approx(tilt, abs=0.01)
    assert info.step == pytest.approx((0.0, 0.0, 1.0), abs=1e-6)
    # the spacing between slice planes (along the normal) is cos(tilt) times the table feed
    assert info.slice_spacing == pytest.approx(5.0 * math.cos(math.radians(tilt)), abs=1e-4)
    assert info.summary()["gantry_tilt_deg"] == info.gantry_tilt
    assert [_z(d) for d in info.datasets] == sorted(_z(d) for d in info.datasets)
    assert volume_suffix(info) == ".mha"


def test_untilted_and_rounding_level_tilt_count_as_untilted():
    info = _one(S.make_ct_series(6))
    assert info.ok and info.gantry_tilt == 0.0
    assert info.step == pytest.approx(info.normal)
    assert volume_suffix(info) == ".nii.gz"
    slight = _one(_tilted(0.3))
    assert slight.ok and slight.gantry_tilt == 0.0


@pytest.mark.parametrize("tilt", [45.0, -45.0, 31.0])
def test_steep_tilt_is_refused_naming_the_angle(tilt):
    info = _one(_tilted(tilt))
    errors = [e for e in info.errors if e.code == ErrorCode.GANTRY_TILT]
    assert len(errors) == 1 and not info.ok
    assert f"{abs(tilt):.1f} degrees" in errors[0].message
    assert "30 degree limit" in errors[0].message
    assert errors[0].extra["tilt_deg"] == pytest.approx(abs(tilt), abs=0.01)


def test_slice_off_the_step_line_is_inconsistent_geometry():
    series = _tilted(20.0, shuffle_seed=None)
    x, y, z = (float(v) for v in series[4].ImagePositionPatient)
    series[4].ImagePositionPatient = [x + 2.0, y, z]  # drifts sideways, same plane
    info = _one(series)
    bad = [e for e in info.errors if e.code == ErrorCode.INCONSISTENT_GEOMETRY]
    assert bad and "one line" in bad[0].message
    assert 4 in bad[0].slices


def test_missing_slice_of_a_tilted_series_is_still_found():
    series = _tilted(20.0, n=10, shuffle_seed=None)
    del series[5]
    info = _one(series)
    assert ErrorCode.MISSING_SLICES in {e.code for e in info.errors}


@pytest.mark.parametrize("tilt", [0.0, 20.0])
def test_order_follows_geometry_not_names_or_instance_numbers(tilt):
    series = (
        _tilted(tilt, n=7, shuffle_seed=None) if tilt else S.make_ct_series(7, shuffle_seed=None)
    )
    for k, ds in enumerate(series):
        ds.InstanceNumber = str(7 - k)  # against the geometry
    feed = list(reversed(series))  # upload order against the geometry
    names = [f"IM{k:04d}.dcm" for k in range(7)]  # names follow the upload order
    info = _one(feed, names)
    assert [_z(d) for d in info.datasets] == [_z(d) for d in series]
    assert [int(d.InstanceNumber) for d in info.datasets] == [7, 6, 5, 4, 3, 2, 1]
    assert info.labels == list(reversed(names))


def test_sitk_image_carries_the_shear_and_matches_each_slice(tmp_path):
    info = _one(_tilted(20.0))
    image = build_sitk_image(info)
    t = math.radians(20.0)
    direction = np.asarray(image.GetDirection()).reshape(3, 3)
    assert direction[:, 1] == pytest.approx([0.0, math.cos(t), -math.sin(t)], abs=1e-6)
    assert direction[:, 2] == pytest.approx([0.0, 0.0, 1.0], abs=1e-6)
    assert image.GetSpacing()[2] == pytest.approx(5.0, abs=1e-4)  # the table feed
    for k, ds in enumerate(info.datasets):  # voxel (0, 0, k) is slice k's first pixel
        point = image.TransformIndexToPhysicalPoint((0, 0, k))
        assert point == pytest.approx([float(v) for v in ds.ImagePositionPatient], abs=1e-4)
    volume = load_hu_volume(info)
    assert np.array_equal(sitk.GetArrayFromImage(image), volume)
    # MetaImage keeps the sheared direction (ITK's NIfTI writer would coerce it)
    back = sitk.ReadImage(str(write_nifti(image, tmp_path / "volume.mha")))
    assert back.GetDirection() == pytest.approx(image.GetDirection(), abs=1e-6)
    assert np.array_equal(sitk.GetArrayFromImage(back), volume)


def test_prepare_upload_accepts_a_tilted_series_and_reports_the_tilt():
    files = [(f"IM{k:04d}.dcm", S.to_bytes(ds)) for k, ds in enumerate(_tilted(10.0))]
    prepared = prepare_upload(files, pseudonym_for=lambda key: "P-1", secret=SECRET)
    assert prepared.ok, prepared.fatal_errors
    assert prepared.primary.info.gantry_tilt == pytest.approx(10.0, abs=0.01)
    assert prepared.summary()["series"][0]["gantry_tilt_deg"] == pytest.approx(10.0, abs=0.01)
    steep = [(f"IM{k:04d}.dcm", S.to_bytes(ds)) for k, ds in enumerate(_tilted(45.0))]
    refused = prepare_upload(steep, pseudonym_for=lambda key: "P-1", secret=SECRET)
    assert not refused.ok
    assert ErrorCode.GANTRY_TILT in {e.code for e in refused.fatal_errors}
