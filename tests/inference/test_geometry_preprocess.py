"""Geometry conventions and the preprocessing round trip (no networks involved)."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from inference import preprocess as pp
from inference.geometry import Geometry, Grid, input_image, to_grid
from inference.metrics import dice


def _oblique_geometry():
    a = np.deg2rad(12.0)
    rot = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    return Geometry((0.9, 0.9, 5.0), (-110.0, -95.0, -60.0), tuple(rot.ravel()))


def test_affine_roundtrip_matches_nibabel_and_sitk(tmp_path):
    geo = _oblique_geometry()
    vol = np.random.default_rng(0).integers(-50, 90, size=(6, 20, 24)).astype(np.int16)
    img = input_image(vol, geo)
    path = tmp_path / "x.nii.gz"
    sitk.WriteImage(img, str(path))
    nimg = nib.load(str(path))
    # nibabel's affine (RAS, x/y/z voxel axes) converts back to the same ITK geometry
    back = Geometry.from_affine(nimg.affine, convention="ras")
    assert back.close_to(geo, tol=1e-3)
    assert np.allclose(geo.to_affine("ras"), nimg.affine, atol=1e-3)
    # and predict's three input forms give identical images
    via_affine = input_image(np.asarray(nimg.dataobj).T, nimg.affine)
    via_ref = input_image(vol, img)
    for other in (via_affine, via_ref):
        assert Grid.from_sitk(other).same_as(Grid.from_sitk(img), tol=1e-3)
        assert np.array_equal(sitk.GetArrayFromImage(other), sitk.GetArrayFromImage(img))


def test_input_image_rejects_ambiguous_calls():
    vol = np.zeros((4, 5, 6), np.int16)
    with pytest.raises(ValueError, match="geometry is required"):
        input_image(vol)
    img = input_image(vol, Geometry((1, 1, 1)))
    with pytest.raises(ValueError, match="only with a numpy volume"):
        input_image(img, Geometry((1, 1, 1)))
    with pytest.raises(ValueError, match="does not match"):
        input_image(np.zeros((5, 5, 6)), img)


def test_model_grid_is_head_centred_and_snapped(cvst_case):
    cfg = pp.PreprocessConfig.preset("5mm")
    img = cvst_case.to_sitk()
    grid = pp.model_grid(img, cfg)
    assert grid.shape == (32, 256, 256)
    assert grid.geometry.spacing == (1.0, 1.0, 5.0)
    centre = pp.head_centre(img, cfg.head_threshold_hu)
    mid = grid.index_to_physical((np.asarray(grid.shape) - 1) / 2.0)
    assert np.allclose(mid[:2], centre[:2], atol=1e-6)  # in-plane: exactly centred
    assert abs(mid[2] - centre[2]) <= 2.5 + 1e-6  # z: snapped to the 5 mm slice lattice
    src = Grid.from_sitk(img)
    z_index = src.physical_to_index(grid.geometry.origin)[0]
    assert abs(z_index - round(z_index)) < 1e-6


def test_window_scales_hu():
    out = pp.window(np.array([-1000.0, 0.0, 100.0, 200.0, 900.0]), 0.0, 200.0)
    assert np.allclose(out, [0, 0, 0.5, 1, 1]) and out.dtype == np.float32


@pytest.mark.parametrize("setting", ["5mm", "1mm"])
def test_mask_round_trip_dice(cvst_case, setting):
    """Mask -> model grid -> back to the DICOM grid overlaps the original (Dice > 0.9)."""
    cfg = pp.PreprocessConfig.preset(setting)
    img = cvst_case.to_sitk()
    src = Grid.from_sitk(img)
    grid = pp.model_grid(img, cfg)
    fwd = pp.mask_to_grid(cvst_case.mask, src, grid)
    assert fwd.sum() > 0
    back = pp.mask_to_grid(fwd, grid, src)
    assert back.shape == cvst_case.mask.shape
    assert dice(back, cvst_case.mask) > 0.9


def test_patch_crop_offsets_round_trip(cvst_case):
    """A map defined on the ROI patch lands on the right DICOM voxels (origin = offsets)."""
    cfg = pp.PreprocessConfig.preset("5mm")
    img = cvst_case.to_sitk()
    prep = pp.prepare(img, cfg)
    mask = pp.mask_to_grid(cvst_case.mask, prep.input_grid, prep.grid)
    patch, start, bbox = pp.roi_patch(cfg, prep.ct, mask)
    assert bbox is not None and patch.shape == (2, 32, 128, 128)
    assert np.all(start >= 0) and np.all(start + np.asarray(cfg.patch_shape) <= cfg.grid_shape)
    assert patch[1].sum() == mask.sum()  # the whole hematoma is inside the patch
    patch_grid = prep.grid.subgrid(start, cfg.patch_shape)
    back = to_grid(patch[1], patch_grid, prep.input_grid, "linear") >= 0.5
    assert dice(back, cvst_case.mask) > 0.9


def test_crop_pads_outside():
    a = np.arange(27, dtype=np.float32).reshape(3, 3, 3)
    out = pp.crop(a, (-1, 1, 2), (3, 3, 3), fill=-5)
    assert out.shape == (3, 3, 3)
    assert np.all(out[0] == -5)
    assert out[1, 0, 0] == a[0, 1, 2] and np.all(out[1, :, 1:] == -5)


def test_ct_resample_keeps_hu(cvst_case):
    """Hematoma HU survive resampling: windowed CT inside the mask is blood-dense."""
    cfg = pp.PreprocessConfig.preset("5mm")
    prep = pp.prepare(cvst_case.to_sitk(), cfg)
    mask = pp.mask_to_grid(cvst_case.mask, prep.input_grid, prep.grid)
    inside = prep.hu[mask > 0].mean()
    expected = cvst_case.volume_hu[cvst_case.mask > 0].mean()
    assert abs(inside - expected) < 8.0
    assert prep.ct.min() >= 0.0 and prep.ct.max() <= 1.0
