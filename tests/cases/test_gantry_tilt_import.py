"""Importing tilted-gantry phantom series: the tilt is recorded, the stored volume keeps the
sheared grid frame by frame, slices follow the geometry; tilts beyond 30 degrees are refused."""

import math

import numpy as np
import pytest
import SimpleITK as sitk

from readerstudy.cases.errors import ImportFailed
from readerstudy.cases.ingest import import_study
from readerstudy.cases.storage import local_copy
from readerstudy.cases.volumes import variant_volume
from tests.cases.conftest import library_snapshot
from tests.tilted_ct import series_datasets, sheared_grid, write_shuffled

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def axial():
    from phantoms import make_case

    return make_case(5150, "sich", matrix=64).to_sitk()


def _write(axial, tilt, folder):
    series = sheared_grid(axial, tilt)
    write_shuffled(series_datasets(series, f"import-{tilt}", reverse_numbers=True), folder, 7)
    return series


def _position(instance) -> np.ndarray:
    return np.array([float(v) for v in instance.metadata["00200032"]["Value"]])


@pytest.mark.parametrize("tilt", [10.0, 20.0])
def test_tilted_phantom_imports_with_its_tilt_on_the_sheared_grid(axial, tilt, tmp_path):
    written = _write(axial, tilt, tmp_path / "dicom")
    series = import_study(tmp_path / "dicom").case.primary_series
    assert series.gantry_tilt == pytest.approx(tilt, abs=0.01)
    assert series.num_slices == written.volume_hu.shape[0]
    assert series.slice_spacing == pytest.approx(
        written.geometry.slice_spacing * math.cos(math.radians(tilt)), abs=1e-3
    )
    instances = list(series.instances.order_by("position"))
    z = [_position(i)[2] for i in instances]
    assert z == sorted(z) and len(set(z)) == len(z)  # by geometry ...
    numbers = [i.instance_number for i in instances]
    assert numbers == sorted(numbers, reverse=True)  # ... not by InstanceNumber
    assert series.volume.endswith(".mha")
    with local_copy(series.volume) as path:
        volume = sitk.ReadImage(str(path))
    assert volume.GetSize() == (series.columns, series.rows, series.num_slices)
    for k in (0, series.num_slices // 2, series.num_slices - 1):  # frame k = stored slice k
        point = volume.TransformIndexToPhysicalPoint((0, 0, k))
        assert point == pytest.approx(_position(instances[k]), abs=1e-3)
    hu = sitk.GetArrayFromImage(volume)
    assert np.abs(hu - np.rint(written.volume_hu)).max() <= 1.0
    # the variants for models are orthogonal (axial) and plain NIfTI
    name = variant_volume(series, "z5")
    assert name.endswith(".nii.gz")
    with local_copy(name) as path:
        variant = sitk.ReadImage(str(path))
    assert variant.GetDirection() == pytest.approx(np.eye(3).ravel(), abs=1e-6)
    assert (sitk.GetArrayFromImage(variant) > 0).sum() > 0  # the head is in it


def test_untilted_phantom_records_no_tilt(axial, tmp_path):
    _write(axial, 0.0, tmp_path / "dicom")
    series = import_study(tmp_path / "dicom").case.primary_series
    assert series.gantry_tilt == 0.0
    assert series.volume.endswith(".nii.gz")
    instances = list(series.instances.order_by("position"))
    assert [i.instance_number for i in instances] == list(range(series.num_slices, 0, -1))


def test_tilt_beyond_30_degrees_is_refused_by_name_and_stores_nothing(axial, tmp_path):
    _write(axial, 45.0, tmp_path / "dicom")
    before = library_snapshot()
    with pytest.raises(ImportFailed) as info:
        import_study(tmp_path / "dicom")
    first = info.value.errors[0]
    assert first["code"] == "gantry_tilt"
    assert "gantry tilt of 45.0 degrees exceeds the 30 degree limit" in first["message"]
    assert "45.0 degrees" in str(info.value)
    assert library_snapshot() == before
