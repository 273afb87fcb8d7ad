"""Where the Grad-CAM++ map lands: the layer -> patch -> DICOM-grid mapping, and localisation
on phantoms the demo model was not trained on (its training seeds are 0..119)."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
import torch
from scipy import ndimage

from inference import preprocess as pp
from inference.explain.common import upsample_to_patch
from inference.geometry import Geometry, Grid, to_grid

# the x and y index axes run along physical -y and -x (a rotation about z plus a flip), and
# the grid is anisotropic, so a swapped (z, y, x) / (x, y, z) order cannot go unnoticed
ROTATED = (0.0, -1.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0)


def _rotated_case_image():
    from phantoms import make_case

    case = make_case(100002, "sich", matrix=128)
    image = case.to_sitk()
    image.SetDirection(ROTATED)
    image.SetOrigin((120.0, 95.0, -40.0))
    mask = sitk.GetImageFromArray(np.asarray(case.mask))
    mask.CopyInformation(image)
    return image, mask


def _centroid(arr: np.ndarray) -> np.ndarray:
    w = np.clip(arr.astype(np.float64), 0, None)
    idx = np.indices(arr.shape).reshape(3, -1)
    return (idx * w.ravel()).sum(axis=1) / w.sum()


@pytest.mark.parametrize("peak", [(5, 30, 1), (3, 1, 30), (4, 17, 11)])
def test_layer_peak_lands_on_the_expected_patch_and_input_voxel(peak):
    """A one-cell activation on the 1/4-resolution layer grid (8 x 32 x 32 of a 32 x 128 x 128
    patch) must land (1) in the patch at ``4 * i + 1.5``, the centre of the 4 voxels that
    cell pooled - to 0.1 voxel, which an ``align_corners=True`` upsampling (0.4-1.4 voxels
    off along some axis for each of these cells) fails; (2) on the DICOM grid on the point
    computed here by hand from the patch start, the model-grid geometry and the input
    geometry - to one input voxel and to 1/4 of a model voxel, which a patch-origin,
    half-voxel or axis-order error fails. The cells
    are one cell away from the patch borders, so the trilinear tent is whole and symmetric."""
    image, mask_img = _rotated_case_image()
    cfg = pp.PreprocessConfig()
    prep = pp.prepare(image, cfg)
    mask = pp.mask_to_grid(sitk.GetArrayFromImage(mask_img), prep.input_grid, prep.grid)
    _, start, bbox = pp.roi_patch(cfg, prep.ct, mask)
    assert bbox is not None
    patch_grid = prep.grid.subgrid(start, cfg.patch_shape)

    coarse = torch.zeros((1, 1, 8, 32, 32))
    coarse[(0, 0, *peak)] = 1.0
    fine = upsample_to_patch(coarse, cfg.patch_shape)[0, 0].numpy()
    f = np.asarray(cfg.patch_shape) / np.asarray(coarse.shape[2:])
    in_patch = f * np.asarray(peak) + (f - 1) / 2.0
    assert np.all(np.abs(_centroid(fine) - in_patch) <= 0.1), (_centroid(fine), in_patch)

    # by hand: patch index -> model-grid index -> physical LPS -> input index
    g_m, g_in = prep.grid.geometry, prep.input_grid.geometry
    model_idx = np.asarray(start, float) + in_patch
    phys = np.asarray(g_m.origin) + g_m.direction_matrix @ (model_idx[::-1] * g_m.spacing)
    ijk = np.linalg.solve(g_in.direction_matrix, phys - np.asarray(g_in.origin))
    expected = (ijk / np.asarray(g_in.spacing))[::-1]
    # the whole tent (+-4 model voxels) must lie inside the scan for the centroid to be fair
    half = 4 * np.asarray(g_m.spacing)[::-1] / np.asarray(g_in.spacing)[::-1]
    assert np.all(expected - half >= 0) and np.all(
        expected + half <= np.asarray(prep.input_grid.shape) - 1
    )

    on_input = to_grid(fine, patch_grid, prep.input_grid, "linear", 0.0)
    err = _centroid(on_input) - expected  # input voxels (z, y, x)
    assert np.all(np.abs(err) <= 1.0), err
    # and tighter, in model voxels: a half-voxel convention error (0.5) fails, while the
    # sampling of the tent on the input grid moves its centroid by < 0.03 voxel
    err_model = err * np.asarray(g_in.spacing)[::-1] / np.asarray(g_m.spacing)[::-1]
    assert np.all(np.abs(err_model) <= 0.25), err_model


def _support(pred) -> np.ndarray:
    roi = pred.roi
    patch = Grid(
        tuple(roi["patch_shape"]),
        Geometry(roi["model_grid"]["spacing"], roi["patch_origin"], pred.grid.geometry.direction),
    )
    return to_grid(np.ones(patch.shape, np.float32), patch, pred.grid, "linear", 0.0) > 0.5


def enrichment_within(heat: np.ndarray, support: np.ndarray, mask: np.ndarray, r: float) -> float:
    """(share of the map's mass within ``r`` voxels of the hematoma) / (that region's share
    of the patch): 1 for a map spread evenly over the patch, 0 for one beside the lesion."""
    region = (ndimage.distance_transform_edt(mask == 0) <= r) & support
    a = np.abs(heat.astype(np.float64))
    return float((a[region].sum() / a[support].sum()) / (region.sum() / support.sum()))


# Held-out phantoms (seeds >= 100000): two lobar sICH, two CVST-ICH (the predicted class is
# CVST-ICH for 100000/sich, 100000/cvst_ich, sICH for the other two, so both targets are
# covered). Measured with the manifest defaults (element-wise weighting, block 1):
# 39.1, 26.7, 39.8, 37.1. The published per-channel weighting at block 3 (the former
# default) gave 0.6, 7.0, 0.4, 4.5, and at most 8.2 at any encoder block on 12 held-out
# cases; k = 10 sits 2.6x below the lowest measured value and above every former one.
# The model segments these four hematomas (Dice 0.71-0.97); where it misses one (2 of 12
# held-out cases, Dice ~0.3) the map follows its own mask and scored 4.2 and 5.5.
K_ENRICHMENT = 10.0


@pytest.mark.parametrize(
    ("seed", "label"),
    [(100000, "sich"), (100002, "sich"), (100000, "cvst_ich"), (100002, "cvst_ich")],
)
def test_gradcampp_concentrates_on_held_out_hematomas(demo_model, seed, label):
    from phantoms import make_case

    case = make_case(seed, label, matrix=128)
    pred = demo_model.predict(case.to_sitk(), options={"explain": ("gradcampp",)})
    (heat,) = [h for h in pred.heatmaps.values() if h.method == "gradcampp"]
    assert heat.params["weighting"] == "element"
    e = enrichment_within(heat.array, _support(pred), np.asarray(case.mask), r=2.0)
    assert e >= K_ENRICHMENT, (seed, label, e)
