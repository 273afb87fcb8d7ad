"""phantoms.dicom_writer: the one synthetic-CT writer (volume + geometry + tags -> files)."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian, RLELossless

from phantoms.dicom_writer import (
    SIGNED_16,
    Geometry,
    PixelEncoding,
    PrivateBlock,
    SeriesUIDs,
    ct_slices,
    dataset_bytes,
    ds_text,
    write_slices,
)

UIDS = SeriesUIDs.derived("test_dicom_writer")


def _volume(n=3, rows=4, cols=5):
    return (np.arange(n * rows * cols).reshape(n, rows, cols) * 7 - 1000).astype(np.int16)


def _read(ds):
    return pydicom.dcmread(io.BytesIO(dataset_bytes(ds)))


def test_geometry_pixels_and_uids_round_trip():
    c, s = np.cos(0.3), np.sin(0.3)
    geo = Geometry(
        origin=(10.0, -20.0, 30.0),
        pixel_spacing=(0.7, 0.9),
        slice_spacing=2.5,
        orientation=(c, s, 0.0, -s, c, 0.0),
        slice_thickness=3.0,
    )
    vol = _volume()
    slices = [_read(ds) for ds in ct_slices(vol, geo, UIDS, tags={"PatientID": "P1"})]
    assert len({ds.SOPInstanceUID for ds in slices}) == 3
    for k, ds in enumerate(slices):
        assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
        assert ds.file_meta.MediaStorageSOPClassUID == CTImageStorage == ds.SOPClassUID
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert UID(ds.SOPInstanceUID).is_valid
        assert (ds.StudyInstanceUID, ds.SeriesInstanceUID) == (UIDS.study, UIDS.series)
        assert ds.FrameOfReferenceUID == UIDS.frame_of_reference
        assert (ds.Modality, ds.PatientID, int(ds.InstanceNumber)) == ("CT", "P1", k + 1)
        ipp = np.array([float(v) for v in ds.ImagePositionPatient])
        assert ipp == pytest.approx([10.0, -20.0, 30.0 + 2.5 * k], abs=1e-6)
        assert float(ds.SliceLocation) == pytest.approx(30.0 + 2.5 * k)
        assert [float(v) for v in ds.PixelSpacing] == [0.7, 0.9]
        assert float(ds.SliceThickness) == 3.0
        assert (ds.Rows, ds.Columns, ds.BitsStored, ds.PixelRepresentation) == (4, 5, 12, 0)
        hu = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        assert np.array_equal(hu, vol[k])


def test_signed_encoding_with_slope_clips_to_the_stored_range():
    enc = PixelEncoding(bits_stored=16, signed=True, intercept=-100.0, slope=2.0)
    vol = np.array([[[-100.0, 0.0, 1e6]]])
    [ds] = ct_slices(vol, Geometry((0, 0, 0), (1, 1), 1), UIDS, encoding=enc)
    ds = _read(ds)
    assert ds.PixelRepresentation == 1
    assert ds.pixel_array.tolist() == [[0, 50, 32767]]
    assert (ds.RescaleIntercept, ds.RescaleSlope) == (-100, 2)
    assert SIGNED_16.bits_stored == 16


def test_same_inputs_same_bytes_and_file_names(tmp_path):
    args = (_volume(), Geometry((0.5, 0.5, -40.0), (0.5, 0.5), 5.0), UIDS)
    blobs = [dataset_bytes(ds) for ds in ct_slices(*args)]
    assert blobs == [dataset_bytes(ds) for ds in ct_slices(*args)]
    paths = write_slices(ct_slices(*args), tmp_path / "s")
    assert [p.name for p in paths] == ["IM0001.dcm", "IM0002.dcm", "IM0003.dcm"]
    assert [p.read_bytes() for p in paths] == blobs
    named = write_slices(ct_slices(*args), tmp_path / "n", ["a.dcm", "b.dcm", "c.dcm"])
    assert [p.name for p in named] == ["a.dcm", "b.dcm", "c.dcm"]


def test_tags_per_slice_private_and_explicit_instance_uids():
    uids = SeriesUIDs(UIDS.study, UIDS.series, UIDS.frame_of_reference, ("1.2.3.1", "1.2.3.2"))
    slices = ct_slices(
        _volume(n=2),
        Geometry((0, 0, 0), (1, 1), 1),
        uids,
        tags={"PatientName": "A^B", "SliceLocation": None, "Modality": "OT"},
        per_slice=[{"InstanceNumber": 2}, {"InstanceNumber": 1}],
        private=[PrivateBlock(0x0009, "ACME", {0x10: ("LO", "secret")})],
    )
    a, b = (_read(ds) for ds in slices)
    assert (a.SOPInstanceUID, b.SOPInstanceUID) == ("1.2.3.1", "1.2.3.2")
    assert (int(a.InstanceNumber), int(b.InstanceNumber)) == (2, 1)
    assert "SliceLocation" not in a
    assert (a.PatientName, a.Modality) == ("A^B", "OT")
    assert a.private_block(0x0009, "ACME")[0x10].value == "secret"


def test_compressed_series_keeps_its_instance_uids():
    uids = SeriesUIDs.derived("test_dicom_writer", "rle")
    geo = Geometry((0, 0, 0), (1, 1), 1)
    [ds] = ct_slices(_volume(n=1), geo, uids, transfer_syntax=RLELossless)
    back = _read(ds)
    assert back.file_meta.TransferSyntaxUID == RLELossless
    assert back.SOPInstanceUID == uids.instance(0) == back.file_meta.MediaStorageSOPInstanceUID
    assert np.array_equal(back.pixel_array.astype(int) - 1024, _volume(n=1)[0])


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"tags": {"Rows": 3}}, "set by the writer"),
        ({"tags": {"NotAKeyword": 1}}, "not a DICOM keyword"),
        ({"per_slice": [{}]}, "per_slice has 1 entries for 3 slices"),
        ({"transfer_syntax": "1.2.840.10008.1.2"}, "neither explicit little endian"),
    ],
)
def test_refusals(kwargs, words):
    with pytest.raises(ValueError, match=words):
        ct_slices(_volume(), Geometry((0, 0, 0), (1, 1), 1), UIDS, **kwargs)


def test_refuses_a_flat_volume_and_long_decimals():
    with pytest.raises(ValueError, match="slices, rows, columns"):
        ct_slices(np.zeros((4, 4)), Geometry((0, 0, 0), (1, 1), 1), UIDS)
    assert [ds_text(v) for v in (5.0, -0.0, 0.1 + 0.2, -1024, 1e-9)] == [
        "5",
        "0",
        "0.3",
        "-1024",
        "0",
    ]
    with pytest.raises(ValueError, match="16 characters"):
        ds_text(1e17)
