"""Attribute values the importer uses: unusable ones are refused by file and attribute name."""

import io
import struct

import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian

from readerstudy.cases.dicom.dicomio import read_dicom, supported_transfer_syntax
from readerstudy.cases.dicom.errors import DicomIngestError, ErrorCode

from . import dicom_synth as S


def _with_raw(keyword: str, text: str) -> bytes:
    """A Part 10 file whose ``keyword`` holds ``text`` as written (spliced into the bytes)."""
    ds = S.make_ct_series(1)[0]
    tag = pydicom.datadict.tag_for_keyword(keyword)
    ds.add_new(tag, pydicom.datadict.dictionary_VR(tag), "1")
    data = S.to_bytes(ds)
    at = data.index(struct.pack("<HH", tag >> 16, tag & 0xFFFF), 132)
    (length,) = struct.unpack("<H", data[at + 6 : at + 8])
    raw = text.encode() + b" " * (len(text) % 2)
    return data[: at + 6] + struct.pack("<H", len(raw)) + raw + data[at + 8 + length :]


def _refusal(data: bytes, **kw) -> DicomIngestError:
    with pytest.raises(DicomIngestError) as ei:
        read_dicom(data, label="IM0001.dcm", **kw)
    return ei.value


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ("SeriesNumber", "12a"),
        ("SeriesNumber", "999999999999"),
        ("SeriesNumber", "2147483648"),
        ("InstanceNumber", "x1"),
        ("InstanceNumber", "1.5"),
        ("NumberOfFrames", "inf"),
        ("NumberOfFrames", "0"),
        ("RescaleSlope", "nan"),
        ("RescaleIntercept", "inf"),
        ("SliceThickness", "nan"),
        ("PixelSpacing", "5e-324\\5e-324"),
        ("PixelSpacing", "0.5"),
        ("ImagePositionPatient", "1\\2\\1e300"),
        ("ImageOrientationPatient", "1\\0\\0\\0\\1\\nan"),
    ],
)
@pytest.mark.parametrize("header_only", [True, False])
def test_unusable_values_are_refused_by_name(keyword, text, header_only):
    error = _refusal(_with_raw(keyword, text), stop_before_pixels=header_only)
    assert error.code == ErrorCode.INVALID_VALUE
    assert error.error.file == "IM0001.dcm"
    assert error.error.message.startswith(f"IM0001.dcm: {keyword} ")


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ("SeriesNumber", "2147483647"),
        ("SeriesNumber", "-2147483648"),
        ("InstanceNumber", "12.0"),
        ("InstanceNumber", ""),
        ("SliceThickness", "0"),
    ],
)
def test_usable_values_pass(keyword, text):
    read_dicom(_with_raw(keyword, text), label="IM0001.dcm")


def test_unknown_vr_is_named_by_tag():
    data = S.to_bytes(S.make_ct_series(1)[0])
    at = data.index(b"\x08\x00\x70\x00LO")  # Manufacturer
    error = _refusal(data[: at + 4] + b"ZZ" + data[at + 6 :], stop_before_pixels=True)
    assert error.code == ErrorCode.INVALID_VALUE
    assert "(0008,0070)" in error.error.message


def test_unknown_transfer_syntax_is_refused_by_name():
    ds = S.make_ct_series(1)[0]
    ds.file_meta.TransferSyntaxUID = "1.2.826.0.1.3680043.99999.1.2"
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, implicit_vr=False, little_endian=True, enforce_file_format=True)
    error = _refusal(buffer.getvalue(), stop_before_pixels=True)
    assert error.code == ErrorCode.UNSUPPORTED_TRANSFER_SYNTAX
    assert "transfer syntax" in error.error.message
    assert supported_transfer_syntax(pydicom.uid.JPEGLosslessSV1)
    assert not supported_transfer_syntax(pydicom.uid.MPEG2MPML)


def test_an_unparseable_file_in_an_unknown_transfer_syntax_is_refused_for_the_syntax():
    ds = S.make_ct_series(1)[0]
    ds.file_meta.TransferSyntaxUID = "1.2.826.0.1.3680043.99999.1.2"
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, implicit_vr=False, little_endian=True, enforce_file_format=True)
    data = buffer.getvalue()
    at = data.index(b"\x08\x00\x16\x00UI")  # SOPClassUID, the first element after the meta
    # an undefined-length UN element that never ends: pydicom cannot parse the data set
    bad = data[:at] + b"\x09\x00\x10\x00UN\x00\x00\xff\xff\xff\xffzzzz"
    with pytest.raises(Exception):  # noqa: B017 (any pydicom error)
        pydicom.dcmread(io.BytesIO(bad))
    assert _refusal(bad).code == ErrorCode.UNSUPPORTED_TRANSFER_SYNTAX


def test_a_corrupt_length_is_truncated_even_when_reading_headers_only():
    data = S.to_bytes(S.make_ct_series(1)[0])
    at = data.index(b"\x10\x00\x20\x00LO")  # PatientID
    (length,) = struct.unpack("<H", data[at + 6 : at + 8])
    bad = data[: at + 6] + struct.pack("<H", length + 37) + data[at + 8 :]
    assert _refusal(bad, stop_before_pixels=True).code == ErrorCode.TRUNCATED


@pytest.mark.parametrize("little_endian", [False, True])
def test_big_endian_and_deflated_files_are_read_as_explicit_little_endian(little_endian):
    original = S.make_ct_series(1)[0]
    expected = original.pixel_array.copy()
    ds = pydicom.dcmread(io.BytesIO(S.to_bytes(original)))
    buffer = io.BytesIO()
    if little_endian:
        ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian
        ds.save_as(buffer, enforce_file_format=True)
    else:
        ds.PixelData = ds.pixel_array.astype(">i2").tobytes()
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRBigEndian
        pydicom.dcmwrite(buffer, ds, implicit_vr=False, little_endian=False)
    got = read_dicom(buffer.getvalue(), label="IM0001.dcm")
    assert got.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert (got.pixel_array == expected).all()
    assert got.Rows == original.Rows and got.SeriesNumber == original.SeriesNumber
