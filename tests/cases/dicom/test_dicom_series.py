"""Series assembly and validation: sorting, geometry, each error code, HU volume, SimpleITK."""

import io

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import JPEGBaseline8Bit, JPEGLSLossless, RLELossless, generate_uid

from readerstudy.cases.dicom.dicomio import read_dicom
from readerstudy.cases.dicom.errors import DicomIngestError, ErrorCode
from readerstudy.cases.dicom.series import (
    HUVolume,
    SeriesLimits,
    assemble_series,
    build_sitk_image,
    choose_primary,
    load_hu_volume,
    write_nifti,
)

from . import dicom_synth as S


def _items(series):
    return [(f"IM{i:04d}.dcm", ds) for i, ds in enumerate(series)]


def _one(series, **kw):
    infos = assemble_series(_items(series), **kw)
    assert len(infos) == 1
    return infos[0]


def _codes(info):
    return {e.code for e in info.errors}


def test_valid_series_is_sorted_along_the_normal_and_rescaled_to_hu():
    series = S.make_ct_series(7, shuffle_seed=3)
    info = _one(series)
    assert info.ok, info.errors
    z = [float(ds.ImagePositionPatient[2]) for ds in info.datasets]
    assert z == sorted(z)
    assert z != [float(ds.ImagePositionPatient[2]) for ds in series]
    assert info.slice_spacing == pytest.approx(5.0)
    assert info.is_axial
    assert info.is_original_primary
    vol = load_hu_volume(info)
    assert vol.dtype == np.int16
    assert vol.shape == (7, 16, 16)
    for k in range(7):
        assert np.array_equal(vol[k], S.slice_hu(k, 16, 16).astype(np.int16))


def test_sitk_image_has_dicom_geometry(tmp_path):
    # an oblique (rotated about z) orientation with a non-trivial origin
    c, s = np.cos(0.3), np.sin(0.3)
    iop = (c, s, 0.0, -s, c, 0.0)
    series = S.make_ct_series(5, orientation=iop, origin=(10.0, -20.0, 30.0), spacing=2.5)
    info = _one(series)
    assert info.ok, info.errors
    img = build_sitk_image(info)
    assert img.GetSize() == (16, 16, 5)
    assert img.GetSpacing() == pytest.approx((0.8, 0.8, 2.5))
    assert img.GetOrigin() == pytest.approx((10.0, -20.0, 30.0))
    d = np.array(img.GetDirection()).reshape(3, 3)
    assert d[:, 0] == pytest.approx([c, s, 0])
    assert d[:, 1] == pytest.approx([-s, c, 0])
    assert d[:, 2] == pytest.approx([0, 0, 1])
    # physical point of voxel (i, j, k) equals the DICOM formula
    sorted_ds = info.datasets
    ipp = np.array([float(v) for v in sorted_ds[3].ImagePositionPatient])
    expect = ipp + 4 * 0.8 * np.array([c, s, 0]) + 2 * 0.8 * np.array([-s, c, 0])
    assert img.TransformIndexToPhysicalPoint((4, 2, 3)) == pytest.approx(tuple(expect), abs=1e-4)
    assert img.GetPixel(4, 2, 3) == S.slice_hu(3, 16, 16)[2, 4]
    out = write_nifti(img, tmp_path / "vol.nii.gz")
    import SimpleITK as sitk

    back = sitk.ReadImage(str(out))
    assert back.GetOrigin() == pytest.approx(img.GetOrigin(), abs=1e-4)
    assert sitk.GetArrayFromImage(back).sum() == sitk.GetArrayFromImage(img).sum()


@pytest.mark.parametrize("slope", [1.0, 0.5])  # int16 and float32 volumes
def test_the_volume_built_slice_by_slice_reaches_sitk_unchanged(tmp_path, slope):
    """HUVolume (slice by slice, handed to SimpleITK through a raw file so the array goes first)
    gives the image and the NIfTI that build_sitk_image gives from the whole volume."""
    import SimpleITK as sitk

    c, s = np.cos(0.3), np.sin(0.3)
    iop = (c, s, 0.0, -s, c, 0.0)
    series = S.make_ct_series(5, orientation=iop, origin=(10.0, -20.0, 30.0), spacing=2.5)
    for ds in series:
        ds.RescaleSlope = slope
    info = _one(series)
    expected = build_sitk_image(info, load_hu_volume(info))
    volume = HUVolume(info)
    for k, ds in enumerate(info.datasets):
        volume.add(k, ds)
    assert volume.array.dtype == (np.int16 if slope == 1.0 else np.float32)
    (tmp_path / "scratch").mkdir()
    image = volume.to_sitk(tmp_path / "scratch")
    assert volume.array.size == 0 and list((tmp_path / "scratch").iterdir())  # the header only
    assert image.GetPixelID() == expected.GetPixelID()
    for attribute in ("GetSize", "GetSpacing", "GetOrigin", "GetDirection"):
        assert getattr(image, attribute)() == getattr(expected, attribute)(), attribute
    assert np.array_equal(sitk.GetArrayFromImage(image), sitk.GetArrayFromImage(expected))
    ours, theirs = (
        write_nifti(image, tmp_path / "a.nii.gz"),
        write_nifti(expected, tmp_path / "b.nii.gz"),
    )
    assert ours.read_bytes() == theirs.read_bytes()


def test_missing_slice_is_reported_with_indices():
    series = S.make_ct_series(8, shuffle_seed=None)
    del series[4]
    info = _one(series)
    err = [e for e in info.errors if e.code == ErrorCode.MISSING_SLICES]
    assert err
    assert err[0].slices == (3,)
    assert err[0].extra["estimated_missing"] == 1


def test_duplicate_positions_and_instances():
    series = S.make_ct_series(6, shuffle_seed=None)
    dup = S.make_ct_series(
        1,
        study_uid=series[0].StudyInstanceUID,
        series_uid=series[0].SeriesInstanceUID,
        frame_uid=series[0].FrameOfReferenceUID,
    )[0]
    dup.ImagePositionPatient = series[2].ImagePositionPatient
    info = _one([*series, dup])
    e = [x for x in info.errors if x.code == ErrorCode.DUPLICATE_SLICES]
    assert e
    assert set(e[0].slices) == {2, 3}
    info2 = _one([*series, series[1]])  # the same instance twice
    assert ErrorCode.DUPLICATE_SLICES in _codes(info2)


def test_non_uniform_spacing_is_inconsistent_geometry():
    series = S.make_ct_series(6, shuffle_seed=None)
    series[3].ImagePositionPatient = [
        series[3].ImagePositionPatient[0],
        series[3].ImagePositionPatient[1],
        "16.0",
    ]
    assert ErrorCode.INCONSISTENT_GEOMETRY in _codes(_one(series))
    # (gantry tilt: test_dicom_gantry_tilt.py)


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda ss: setattr(ss[2], "Rows", 20), ErrorCode.INCONSISTENT_GEOMETRY),
        (
            lambda ss: setattr(ss[2], "PixelSpacing", ["0.9", "0.9"]),
            ErrorCode.INCONSISTENT_GEOMETRY,
        ),
        (
            lambda ss: setattr(ss[2], "ImageOrientationPatient", [1, 0, 0, 0, 0.9, 0.436]),
            ErrorCode.INCONSISTENT_GEOMETRY,
        ),
        (lambda ss: delattr(ss[1], "ImagePositionPatient"), ErrorCode.INCONSISTENT_GEOMETRY),
        (lambda ss: [setattr(d, "Modality", "MR") for d in ss], ErrorCode.WRONG_MODALITY),
        (lambda ss: setattr(ss[1], "Modality", "MR"), ErrorCode.MIXED_SERIES),
        (lambda ss: setattr(ss[1], "FrameOfReferenceUID", generate_uid()), ErrorCode.MIXED_SERIES),
        (
            lambda ss: [setattr(d, "SOPClassUID", "1.2.840.10008.5.1.4.1.1.2.1") for d in ss],
            ErrorCode.UNSUPPORTED_SOP_CLASS,
        ),
    ],
)
def test_header_error_codes(mutate, code):
    series = S.make_ct_series(5, shuffle_seed=None)
    assert _one(series).ok
    mutate(series)
    assert code in _codes(_one(series))


def test_absurd_dimensions():
    assert ErrorCode.ABSURD_DIMENSIONS in _codes(_one(S.make_ct_series(2)))
    big = S.make_ct_series(3, rows=8, cols=8)
    for ds in big:
        ds.Rows = 4096  # header claims a huge matrix
    assert ErrorCode.ABSURD_DIMENSIONS in _codes(_one(big))
    lim = SeriesLimits(max_slices=4)
    assert ErrorCode.ABSURD_DIMENSIONS in _codes(_one(S.make_ct_series(5), limits=lim))


def test_compressed_pixel_data_decode_to_the_same_hu():
    for syntax in (RLELossless, JPEGLSLossless):
        series = S.make_ct_series(4, rows=32, cols=32)
        for ds in series:
            ds.compress(syntax)
        parsed = [read_dicom(S.to_bytes(ds), label=f"IM{i}.dcm") for i, ds in enumerate(series)]
        info = _one(parsed)
        assert info.ok
        vol = load_hu_volume(info)
        for k in range(4):
            assert np.array_equal(vol[k], S.slice_hu(k, 32, 32))


def test_undecodable_pixels():
    series = S.make_ct_series(4, rows=32, cols=32, shuffle_seed=None)
    bad = series[2]
    bad.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    bad.PixelData = encapsulate([b"\xff\xd8\xff\xe0 not a jpeg at all \xff\xd9"])
    bad["PixelData"].VR = "OB"
    parsed = [read_dicom(S.to_bytes(ds), label=f"IM{i}.dcm") for i, ds in enumerate(series)]
    info = _one(parsed)
    with pytest.raises(DicomIngestError) as ei:
        load_hu_volume(info)
    assert ei.value.code == ErrorCode.UNDECODABLE_PIXELS
    assert ei.value.error.file == "IM0002.dcm"


def test_not_dicom_and_truncated_files():
    with pytest.raises(DicomIngestError) as ei:
        read_dicom(b"hello, this is a README\n" * 20, label="README.txt")
    assert ei.value.code == ErrorCode.NOT_DICOM
    data = S.to_bytes(S.make_ct_series(1, rows=64, cols=64)[0])
    for cut in (len(data) - 100, 400, 140):
        with pytest.raises(DicomIngestError) as ei:
            read_dicom(data[:cut], label="IM0001.dcm")
        assert ei.value.code == ErrorCode.TRUNCATED, cut
        assert "IM0001.dcm" in str(ei.value)
    # a file without preamble (raw dataset) is still accepted when it parses
    raw = pydicom.dcmread(io.BytesIO(data))
    fp = DicomBytesIO()
    fp.is_implicit_VR, fp.is_little_endian = True, True
    write_dataset(fp, raw)
    body = fp.getvalue()
    assert body[128:132] != b"DICM"
    assert read_dicom(body, label="raw").SOPClassUID == S.CT_IMAGE_STORAGE


def test_primary_choice_rule_and_override():
    study = generate_uid()
    thin = S.make_ct_series(20, spacing=1.0, study_uid=study)
    thick = S.make_ct_series(6, spacing=5.0, study_uid=study)
    derived = S.make_ct_series(
        6, spacing=5.0, study_uid=study, image_type=("DERIVED", "PRIMARY", "AXIAL")
    )
    coronal = S.make_ct_series(6, spacing=5.0, study_uid=study, orientation=(1, 0, 0, 0, 0, -1))
    scout = S.make_ct_series(2, study_uid=study)
    infos = assemble_series(_items(thin + thick + derived + coronal + scout))
    assert len(infos) == 5
    primary, err = choose_primary(infos)
    assert err is None
    assert primary.series_uid == thick[0].SeriesInstanceUID
    primary, err = choose_primary(infos, target_thickness_mm=1.0)
    assert primary.series_uid == thin[0].SeriesInstanceUID
    primary, err = choose_primary(infos, override=derived[0].SeriesInstanceUID)
    assert primary.series_uid == derived[0].SeriesInstanceUID
    _, err = choose_primary(infos, override="1.2.3")
    assert err.code == ErrorCode.PRIMARY_NOT_FOUND
    only_coronal = assemble_series(_items(coronal))
    _, err = choose_primary(only_coronal)
    assert err.code == ErrorCode.NO_PRIMARY_SERIES


def test_jpeg_baseline_series_decodes_through_the_pixel_handlers():
    from PIL import Image

    series = S.make_ct_series(3, rows=32, cols=32)
    want = []
    for k, ds in enumerate(series):
        yy, xx = np.mgrid[0:32, 0:32]
        arr = (2 * (xx + yy) + 20 * k).astype(np.uint8)  # smooth: small JPEG error
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="JPEG", quality=95)
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
        ds.RescaleIntercept, ds.RescaleSlope = "-100", "2"
        ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
        ds.PixelData = encapsulate([buf.getvalue()])
        ds["PixelData"].VR = "OB"
        want.append((float(ds.ImagePositionPatient[2]), arr.astype(float) * 2 - 100))
    parsed = [read_dicom(S.to_bytes(ds), label=f"IM{i}.dcm") for i, ds in enumerate(series)]
    info = _one(parsed)
    assert info.ok
    vol = load_hu_volume(info)
    for k, (_, hu) in enumerate(sorted(want, key=lambda t: t[0])):
        assert np.abs(vol[k] - hu).max() <= 6  # lossy JPEG, slope 2


def _broken_series():
    base = S.make_ct_series(6)
    missing = S.make_ct_series(6)
    del missing[2].ImagePositionPatient
    dup = S.make_ct_series(6)
    dup[3].SOPInstanceUID = dup[1].SOPInstanceUID
    mixed = S.make_ct_series(6)
    mixed[0].Modality = "MR"
    gap = S.make_ct_series(8)
    gap = gap[:3] + gap[5:]
    single_image_type = S.make_ct_series(4, image_type=("DERIVED",))
    single_image_type[0].ImageType = "DERIVED"
    tilted = S.make_ct_series(6, step=(0.0, 0.26, 0.966))
    return [base, missing, dup, mixed, gap, single_image_type, tilted]


@pytest.mark.parametrize("k", range(7))
def test_slice_headers_give_the_same_series_as_the_datasets(k):
    from readerstudy.cases.dicom.series import SliceHeader

    datasets = _broken_series()[k]
    items = [(f"f{i}", ds) for i, ds in enumerate(datasets)]
    from_datasets = assemble_series(items)
    from_records = assemble_series([(lb, SliceHeader.of(ds)) for lb, ds in items])
    assert [s.summary() for s in from_records] == [s.summary() for s in from_datasets]
    for a, b in zip(from_records, from_datasets, strict=True):
        assert a.labels == b.labels
        assert (a.origin, a.normal, a.step, a.orientation) == (
            b.origin,
            b.normal,
            b.step,
            b.orientation,
        )
        assert a.datasets == [] and len(b.datasets) == len(b.labels)
