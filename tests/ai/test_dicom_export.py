import io
import zipfile

import highdicom as hd
import numpy as np
import pydicom
import pytest
from django.core.management import call_command

from readerstudy.ai import dicom_export
from readerstudy.ai.outputs import read_volume
from readerstudy.cases.models import Case
from tests.factories import (
    PASSWORD,
    CoordinatorFactory,
    ModelVersionFactory,
    ReaderFactory,
    make_inference_output,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def output(tmp_path):
    from phantoms import generate_dataset

    generate_dataset(tmp_path / "ph", 1, 5, matrix=128)
    call_command("import_cases", str(tmp_path / "ph"), "--no-progress")
    case = Case.objects.get()
    series = case.primary_series
    shape = (series.num_slices, series.rows, series.columns)
    return make_inference_output(case, ModelVersionFactory(), shape=shape)


def _position_of(output):
    return dict(output.job.series.instances.values_list("sop_instance_uid", "position"))


def test_mask_exports_as_a_segmentation_that_references_the_series_slice_by_slice(output):
    seg_obj = dicom_export.export_objects(output)[0]
    seg = hd.seg.segread(io.BytesIO(seg_obj.data))
    series = output.job.series
    assert seg.Modality == "SEG"
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == series.series_instance_uid
    assert seg.StudyInstanceUID == series.study_instance_uid
    mask = read_volume(output.mask).array
    positions = _position_of(output)
    uids = sorted(positions, key=positions.get)
    volume = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=uids, segment_numbers=[1], combine_segments=True
    )
    assert volume.shape == mask.shape
    assert np.array_equal(volume > 0, mask > 0)
    assert mask.sum() > 0


def test_heatmaps_export_as_float_parametric_maps_aligned_with_their_slices(output):
    maps = {o.name: o for o in dicom_export.export_objects(output)}
    positions = _position_of(output)
    for heatmap in output.heatmaps.all():
        pm = pydicom.dcmread(io.BytesIO(maps[f"parametric_map_{heatmap.method}.dcm"].data))
        assert pm.SOPClassUID == "1.2.840.10008.5.1.4.1.1.30"  # Parametric Map Storage
        expected = read_volume(heatmap.file).array.astype(np.float32)
        frames = pm.pixel_array
        for i, group in enumerate(pm.PerFrameFunctionalGroupsSequence):
            source = group.DerivationImageSequence[0].SourceImageSequence[0]
            z = positions[source.ReferencedSOPInstanceUID]
            assert np.allclose(frames[i], expected[z])
        mapping = pm.SharedFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
        assert mapping.LUTLabel == heatmap.method


def test_export_is_deterministic_and_carries_no_identifying_header(output):
    first = dicom_export.export_zip(output)
    assert dicom_export.export_zip(output) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        names = archive.namelist()
        seg = pydicom.dcmread(io.BytesIO(archive.read("segmentation.dcm")))
    assert names == [
        "segmentation.dcm",
        "parametric_map_gradcampp.dcm",
        "parametric_map_ig.dcm",
    ]
    # Patient and study attributes are copied from the stored de-identified instances.
    source = output.job.series.instances.first()
    for keyword in ("PatientName", "PatientID", "StudyDate", "PatientIdentityRemoved"):
        assert seg.get(keyword) == pydicom.Dataset.from_json(source.metadata).get(keyword)
    assert seg.PatientIdentityRemoved == "YES"


def test_export_refuses_an_output_whose_grid_is_not_the_series(output):
    from tests.factories import make_inference_output as make

    other = make(output.job.case, ModelVersionFactory(version="2.0.0"), shape=(3, 8, 8))
    with pytest.raises(dicom_export.ExportRefused, match=r"mask has shape \(3, 8, 8\)"):
        dicom_export.export_objects(other)


def test_export_api_is_for_coordinators_and_command_writes_files(output, client, tmp_path):
    url = f"/api/ai/jobs/{output.job_id}/dicom/"
    client.login(username=ReaderFactory().username, password=PASSWORD)
    assert client.get(url).status_code == 403
    client.login(username=CoordinatorFactory().username, password=PASSWORD)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(response.content)).testzip() is None
    call_command("export_ai_dicom", str(output.job_id), "--out", str(tmp_path / "x"))
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == [
        "parametric_map_gradcampp.dcm",
        "parametric_map_ig.dcm",
        "segmentation.dcm",
    ]
