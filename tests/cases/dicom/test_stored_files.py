"""The files an import stores: native little endian Part 10 files whose recorded pixel offset
and length frame the original pixels, whatever the transfer syntax of the upload."""

import hashlib
import io

import numpy as np
import pydicom
import pytest
from django.core.files.storage import default_storage
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGLSLossless,
    RLELossless,
)

from readerstudy.cases.ingest import import_study
from readerstudy.cases.models import Instance

from . import dicom_synth as S

pytestmark = pytest.mark.django_db

SYNTAXES = [
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    RLELossless,
    JPEGLSLossless,
]


def _encoded(ds, syntax) -> bytes:
    buffer = io.BytesIO()
    if syntax == ExplicitVRBigEndian:
        ds.PixelData = ds.pixel_array.astype(">i2").tobytes()
        ds.file_meta.TransferSyntaxUID = syntax
        pydicom.dcmwrite(buffer, ds, implicit_vr=False, little_endian=False)
    elif syntax.is_compressed:
        ds.compress(syntax)
        ds.save_as(buffer, enforce_file_format=True)
    else:
        ds.file_meta.TransferSyntaxUID = syntax
        ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


@pytest.mark.parametrize("syntax", SYNTAXES, ids=lambda uid: uid.keyword)
def test_stored_pixels_sit_at_the_recorded_offset(tmp_path, syntax):
    series = S.make_ct_series(4, rows=32, cols=32)
    expected = {int(ds.InstanceNumber): ds.pixel_array.copy() for ds in series}
    folder = tmp_path / "upload"
    folder.mkdir()
    for i, ds in enumerate(series):
        (folder / f"IM{i:04d}.dcm").write_bytes(_encoded(ds, syntax))

    outcome = import_study(folder)

    instances = Instance.objects.filter(series__case=outcome.case).order_by("position")
    assert len(instances) == len(series)
    for inst in instances:
        with default_storage.open(inst.file) as fh:
            data = fh.read()
        assert inst.size == len(data)
        assert inst.sha256 == hashlib.sha256(data).hexdigest()
        stored = pydicom.dcmread(io.BytesIO(data))
        assert stored.file_meta.TransferSyntaxUID in (
            ExplicitVRLittleEndian,
            ImplicitVRLittleEndian,
        )
        assert inst.transfer_syntax_uid == stored.file_meta.TransferSyntaxUID
        assert stored.PatientName != "DOE^JANE"
        framed = data[inst.pixel_offset : inst.pixel_offset + inst.pixel_length]
        assert framed == stored.PixelData
        pixels = np.frombuffer(framed, dtype="<i2").reshape(stored.Rows, stored.Columns)
        assert (pixels == expected[int(stored.InstanceNumber)]).all()
