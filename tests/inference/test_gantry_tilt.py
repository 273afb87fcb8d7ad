"""Tilted-gantry series: read on their sheared grid (ordered by geometry), resampled onto an
orthogonal model grid by ``predict``, outputs written back on the sheared input grid."""

from __future__ import annotations

import json
import math

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from inference.cli import main
from inference.geometry import Geometry, Grid, orthogonal_direction
from inference.preprocess import PreprocessConfig, model_grid
from inference.volume_io import read_dicom_series, write_image
from tests.tilted_ct import series_datasets, sheared_grid, write_shuffled


def _sheared(tilt_deg: float) -> Geometry:
    t = math.radians(tilt_deg)
    columns = np.column_stack([(1.0, 0.0, 0.0), (0.0, math.cos(t), -math.sin(t)), (0, 0, 1.0)])
    return Geometry((0.8, 0.8, 5.0), (-50.0, -40.0, 10.0), tuple(columns.ravel()))


def test_sheared_geometry_maps_points_both_ways():
    g = _sheared(20.0)
    assert g.shear_deg == pytest.approx(20.0, abs=1e-6) and not g.is_orthogonal
    assert g.voxel_volume == pytest.approx(0.8 * 0.8 * 5.0 * math.cos(math.radians(20.0)))
    grid = Grid((12, 30, 40), g)
    index = np.array([7.0, 11.5, 3.25])
    assert grid.physical_to_index(grid.index_to_physical(index)) == pytest.approx(index)
    # the model grid of a gantry tilt about x is the untilted axial one
    assert orthogonal_direction(g.direction) == pytest.approx(np.eye(3).ravel(), abs=1e-12)
    rotated = Geometry((1, 1, 1), direction=(0, -1, 0, 1, 0, 0, 0, 0, 1)).direction
    assert orthogonal_direction(rotated) == rotated
    assert Geometry((1, 1, 1), direction=(-1, 0, 0, 0, 1, 0, 0, 0, 1)).is_orthogonal


@pytest.mark.parametrize(
    "direction",
    [
        (1, 0.3, 0, 0, 1, 0, 0, 0, 1),  # rows and columns not orthogonal
        (1, 0, 0, 0, 1, 0.9, 0, 0, 0.436),  # z axis 64 degrees off the normal
        (2, 0, 0, 0, 0.5, 0, 0, 0, 1),  # not unit columns
    ],
)
def test_bad_directions_are_refused(direction):
    with pytest.raises(ValueError, match="direction must be"):
        Geometry((1, 1, 1), direction=direction)


def test_write_image_keeps_the_shear_in_the_nifti_sform(tmp_path):
    g = _sheared(15.0)
    grid = Grid((6, 9, 11), g)
    data = np.arange(6 * 9 * 11, dtype=np.float32).reshape(grid.shape)
    path = write_image(grid.image(data), tmp_path / "map.nii.gz")
    nii = nib.load(str(path))
    assert Geometry.from_affine(nii.affine, "ras").close_to(g, tol=1e-5)
    assert np.array_equal(np.asarray(nii.dataobj).transpose(2, 1, 0), data)
    # an orthogonal image is still written by ITK, readable back as it was
    plain = Grid((6, 9, 11), Geometry((1, 1, 2)))
    back = sitk.ReadImage(str(write_image(plain.image(data), tmp_path / "plain.nii.gz")))
    assert Grid.from_sitk(back).same_as(plain)


@pytest.fixture(scope="module")
def tilted_dirs(tmp_path_factory, sich_case):
    """The same phantom written untilted and tilted by 20 degrees, file names shuffled and
    InstanceNumber running against the geometry."""
    out = {}
    for tilt in (0.0, 20.0):
        series = sheared_grid(sich_case.to_sitk(), tilt)
        folder = tmp_path_factory.mktemp(f"tilt{int(tilt)}")
        write_shuffled(series_datasets(series, f"tilt-{tilt}", reverse_numbers=True), folder, 3)
        out[tilt] = (folder, series)
    return out


def test_tilted_dicom_is_read_on_its_sheared_grid_in_geometric_order(tilted_dirs):
    folder, series = tilted_dirs[20.0]
    image, meta = read_dicom_series(folder)
    assert meta["gantry_tilt_deg"] == pytest.approx(20.0, abs=0.01)
    grid = Grid.from_sitk(image)
    assert grid.shape == series.volume_hu.shape
    assert grid.geometry.shear_deg == pytest.approx(20.0, abs=0.01)
    for k in (0, 7, grid.shape[0] - 1):  # slice k's first pixel where the writer put it
        assert grid.index_to_physical((k, 0, 0)) == pytest.approx(
            series.geometry.position(k), abs=1e-3
        )
    assert np.array_equal(sitk.GetArrayFromImage(image), np.rint(series.volume_hu))
    model = model_grid(image, PreprocessConfig())  # what the model sees: orthogonal, axial
    assert model.geometry.direction == pytest.approx(np.eye(3).ravel(), abs=1e-9)
    untilted, meta0 = read_dicom_series(tilted_dirs[0.0][0])
    assert meta0["gantry_tilt_deg"] == 0.0 and Grid.from_sitk(untilted).geometry.is_orthogonal


def test_steep_tilt_is_refused_naming_the_angle(tmp_path, sich_case):
    small = sitk.Shrink(sich_case.to_sitk(), (8, 8, 3))
    write_shuffled(series_datasets(sheared_grid(small, 45.0), "steep"), tmp_path)
    with pytest.raises(ValueError, match=r"gantry tilt of 45\.0 degrees exceeds the 30 degree"):
        read_dicom_series(tmp_path)


def test_predict_on_tilted_dicom_matches_untilted_and_writes_the_input_grid(
    tilted_dirs, demo_model, tmp_path
):
    untilted, _ = read_dicom_series(tilted_dirs[0.0][0])
    p_untilted = demo_model.predict(untilted).probabilities["cvst_ich"]
    folder, series = tilted_dirs[20.0]
    out = tmp_path / "out"
    assert (
        main(["predict", "--input", str(folder), "--out", str(out), "--explain", "gradcampp"]) == 0
    )
    result = json.loads((out / "result.json").read_text())
    p_tilted = result["probabilities"]["cvst_ich"]
    assert abs(p_tilted - p_untilted) < 0.05, (p_tilted, p_untilted)
    assert result["provenance"]["input"]["meta"]["gantry_tilt_deg"] == pytest.approx(20.0, 0.01)
    # the outputs are on the sheared input grid
    input_geometry = Grid.from_sitk(series.image).geometry
    for name in ("mask.nii.gz", "heatmap_gradcampp.nii.gz"):
        nii = nib.load(str(out / name))
        assert np.asarray(nii.dataobj).transpose(2, 1, 0).shape == series.volume_hu.shape, name
        assert Geometry.from_affine(nii.affine, "ras").close_to(input_geometry, tol=1e-3), name
    heat = np.asarray(nib.load(str(out / "heatmap_gradcampp.nii.gz")).dataobj)
    assert np.isfinite(heat).all() and np.abs(heat).max() > 0
