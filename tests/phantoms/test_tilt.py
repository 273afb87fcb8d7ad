"""Gantry tilt: tilted planes, table-axis positions, and a volume that resamples back."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from phantoms.anatomy import TISSUE
from phantoms.subtype_case import make_subtype_case
from phantoms.subtype_io import write_subtype_case
from phantoms.subtypes import CODES
from phantoms.tilt import SliceGrid

TILT = 15.0


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    flat = make_subtype_case(7, ("iph", "sdh"), location="lobar", matrix=64)
    tilted = make_subtype_case(7, ("iph", "sdh"), location="lobar", matrix=64, tilt=TILT)
    out = tmp_path_factory.mktemp("tilt")
    return flat, tilted, write_subtype_case(tilted, out)


def _read(path: str, orthogonal: bool) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(path))
    reader.SetForceOrthogonalDirection(orthogonal)
    return reader.Execute()


def test_slices_are_tilted_planes_stepping_along_the_table(pair):
    _, case, record = pair
    files = sorted(Path(record["path"]).glob("IM*.dcm"))
    slices = [pydicom.dcmread(f) for f in files]
    t = math.radians(TILT)
    positions = np.array([[float(v) for v in ds.ImagePositionPatient] for ds in slices])
    for ds in slices:
        assert float(ds.GantryDetectorTilt) == TILT
        iop = np.array([float(v) for v in ds.ImageOrientationPatient])
        assert iop == pytest.approx([1, 0, 0, 0, math.cos(t), -math.sin(t)], abs=1e-6)
    row, col = iop[:3], iop[3:]
    normal = np.cross(row, col)
    assert math.degrees(math.acos(normal[2])) == pytest.approx(TILT, abs=1e-4)
    steps = np.diff(positions, axis=0)
    assert steps == pytest.approx(np.tile([0.0, 0.0, case.grid.dz], (len(steps), 1)), abs=1e-3)
    # the positions leave the normal: each step has an in-plane part dz * sin(t) ...
    in_plane = np.linalg.norm(np.cross(steps[0], normal))
    assert in_plane == pytest.approx(case.grid.dz * math.sin(t), abs=1e-3)
    # ... and the planes are dz * cos(t) apart
    assert steps[0] @ normal == pytest.approx(case.grid.plane_spacing(), abs=1e-3)
    # every image is centred on the gantry axis at its table position
    half = (case.matrix - 1) * case.grid.px / 2.0
    centres = positions + half * (row + col)
    assert centres[:, :2] == pytest.approx(np.zeros((len(files), 2)), abs=1e-3)
    assert positions[0] == pytest.approx(case.origin, abs=1e-4)


def test_a_tilt_aware_reader_recovers_the_sheared_grid(pair):
    _, case, record = pair
    img = _read(record["path"], orthogonal=False)
    assert img.GetDirection() == pytest.approx(case.direction, abs=1e-5)
    assert img.GetSpacing() == pytest.approx(case.spacing, abs=1e-4)
    assert img.GetOrigin() == pytest.approx(case.origin, abs=1e-4)
    assert np.array_equal(sitk.GetArrayFromImage(img), case.volume_hu)
    labels = sitk.ReadImage(record["mask_path"])
    assert record["mask_path"].endswith(".nrrd")  # NIfTI cannot hold a sheared grid
    assert labels.GetDirection() == pytest.approx(case.direction, abs=1e-6)
    assert np.array_equal(sitk.GetArrayFromImage(labels), case.label_map)


def _head_error(flat, path: str, orthogonal: bool) -> float:
    """Mean |HU difference| over the head after resampling the series onto ``flat``."""
    img = _read(path, orthogonal=orthogonal)
    back = sitk.Resample(img, flat.to_sitk(), sitk.Transform(), sitk.sitkLinear, -2000.0)
    hu = sitk.GetArrayFromImage(back)
    inside = (flat.tissues != TISSUE["air"]) & (hu > -1500)
    assert inside.sum() > 10000
    return float(np.mean(np.abs(hu[inside] - flat.volume_hu[inside])))


def test_resampled_back_the_tilted_volume_matches_the_untilted_one(pair):
    flat, case, record = pair
    right = _head_error(flat, record["path"], orthogonal=False)
    wrong = _head_error(flat, record["path"], orthogonal=True)  # the tilt ignored
    # noise and bone edges interpolated across 5 mm slices and 3.6 mm pixels remain (about
    # 60 HU here); ignoring the tilt misplaces the skull (about 320 HU)
    assert right < 80.0
    assert wrong > 3.0 * right
    labels = sitk.Resample(
        case.label_map_sitk(), flat.to_sitk(), sitk.Transform(), sitk.sitkNearestNeighbor, 0
    )
    back = sitk.GetArrayFromImage(labels)
    for name in ("iph", "sdh"):
        a, b = flat.label_map == CODES[name], back == CODES[name]
        dice = 2.0 * np.count_nonzero(a & b) / (a.sum() + b.sum())
        assert dice > 0.75, (name, dice)


def test_volumes_agree_with_and_without_tilt(pair):
    flat, case, _ = pair
    assert case.subtypes == flat.subtypes
    for name in flat.subtypes:
        va, vb = flat.hemorrhage[name]["volume_ml"], case.hemorrhage[name]["volume_ml"]
        assert vb == pytest.approx(va, rel=0.1), name


def test_no_tilt_is_the_axial_grid():
    grid = SliceGrid(matrix=4, px=1.0, n=3, z0=-50.0, dz=5.0)
    assert grid.orientation == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    assert grid.direction == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    assert grid.origin == (-1.5, -1.5, -50.0)
    assert grid.geometry(5.0).step is None
    ys, zs = grid.row_yz(2)
    assert ys.tolist() == [-1.5, -0.5, 0.5, 1.5]
    assert zs.tolist() == [-40.0] * 4
    with pytest.raises(ValueError, match="tilt must be within"):
        SliceGrid(matrix=4, px=1.0, n=3, z0=0.0, dz=5.0, tilt_deg=31.0)
