"""Shared slice preprocessing: window maths, geometric order, and the way back to the input grid."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from inference.geometry import Geometry, Grid
from inference.zoo.slices import (
    SEED004_WINDOWS,
    SliceConfig,
    Window,
    normalise,
    parse_thickness,
    slice_stack,
)


def _image(array: np.ndarray, spacing=(0.45, 0.45, 5.0), direction=None):
    geometry = Geometry(spacing, (-100.0, -80.0, 20.0), direction or (1, 0, 0, 0, 1, 0, 0, 0, 1))
    return Grid(array.shape, geometry).image(array.astype(np.float32))


def _tilted(deg: float) -> tuple[float, ...]:
    t = math.radians(deg)
    return (1, 0, 0, 0, 1, math.sin(t), 0, 0, math.cos(t))  # z column steps off the normal


def test_window_maths():
    brain, subdural, bone = SEED004_WINDOWS
    hu = np.array([-1024, 0, 40, 80, 1000], np.float32)
    np.testing.assert_allclose(brain.apply(hu), [0, 0, 0.5, 1, 1])
    np.testing.assert_allclose(subdural.apply(hu), [0, 0.1, 0.3, 0.5, 1])
    # bone: HU -800 -> 0, 2000 -> 1
    np.testing.assert_allclose(bone.apply(hu), (np.clip(hu, -800, 2000) + 800) / 2800, atol=1e-6)
    assert float(bone.apply(np.float32(600.0))) == 0.5
    assert (brain.level, brain.width, subdural.level, subdural.width) == (40, 80, 80, 200)
    assert (bone.level, bone.width) == (600, 2800)
    with pytest.raises(ValueError, match="width must be positive"):
        Window("x", 40, 0)


def test_channels_are_the_windows_in_order():
    vol = np.full((3, 64, 64), 40.0)
    stack = slice_stack(_image(vol, spacing=(1.0, 1.0, 5.0)), SliceConfig(slice_shape=(64, 64)))
    assert stack.images.shape == (3, 3, 64, 64) and stack.images.dtype == np.float32
    np.testing.assert_allclose(stack.images[:, :, 32, 32], [[0.5, 0.3, 0.3]] * 3, atol=1e-6)


def test_config_from_manifest_and_errors():
    cfg = SliceConfig.from_manifest(
        {"windows": [{"name": "a", "level": 10, "width": 20}], "slice_shape": [96, 80]}
    )
    assert cfg.windows == (Window("a", 10.0, 20.0),) and cfg.slice_shape == (96, 80)
    assert SliceConfig.from_manifest(SliceConfig().to_manifest()) == SliceConfig()
    with pytest.raises(ValueError, match="slice_shape"):
        SliceConfig.from_manifest({"windows": [{"name": "a", "level": 1, "width": 2}]})
    with pytest.raises(ValueError, match="normalisation"):
        SliceConfig(normalisation="zscore")
    imgs = np.full((1, 3, 2, 2), 0.485, np.float32)
    assert abs(float(normalise(imgs, "imagenet")[0, 0, 0, 0])) < 1e-6


@pytest.mark.parametrize(
    ("shape", "spacing", "direction"),
    [
        ((4, 512, 512), (0.45, 0.45, 5.0), None),  # downsampling by 4 (anti-aliased)
        ((4, 200, 260), (0.8, 0.6, 5.0), None),  # non-square matrix and pixels
        ((4, 256, 256), (0.9, 0.9, 2.5), _tilted(20.0)),  # tilted gantry (sheared grid)
    ],
)
def test_round_trip_lands_on_the_same_pixels(shape, spacing, direction):
    """A pattern windowed, resampled to the model slice and mapped back covers the same
    input pixels up to 1 pixel: every mismatch lies within 1 px of the pattern's edge. A
    half-pixel error in the corner convention or a transposed axis moves whole edges by
    several input pixels (4 at the first case's scale) and fails."""
    rng = np.random.default_rng(0)
    vol = np.zeros(shape)  # 0 and 80 HU: the brain window is linear between them
    truth = np.zeros(shape, bool)
    for k in range(shape[0]):  # an off-centre box per slice, different on each slice
        y0, x0 = rng.integers(10, shape[1] // 2), rng.integers(10, shape[2] // 2)
        truth[k, y0 : y0 + shape[1] // 4, x0 : x0 + shape[2] // 3] = True
    vol[truth] = 80.0
    stack = slice_stack(_image(vol, spacing, direction), SliceConfig(slice_shape=(128, 128)))
    back = stack.to_input_grid(stack.images[:, 0]) > 0.5
    assert back.shape == shape
    edge = np.zeros(shape, bool)
    for k in range(shape[0]):
        edge[k] = ndimage.binary_dilation(truth[k]) & ~ndimage.binary_erosion(truth[k])
        edge[k] = ndimage.binary_dilation(edge[k])  # within 1 px of the edge
    wrong = back != truth
    assert not (wrong & ~edge).any(), f"{int((wrong & ~edge).sum())} pixels off by more than 1 px"
    assert (back & truth).sum() >= 0.9 * truth.sum()


def test_slices_never_mix_and_order_is_geometric():
    """Slice k of the output comes from slice k only (a constant per slice comes back
    exactly), and a series whose index axis descends along the normal is reversed."""
    vol = np.stack([np.full((40, 40), float(10 * k)) for k in range(5)])
    flipped = (1, 0, 0, 0, 1, 0, 0, 0, -1)  # right-handed? no matter: z descends the normal
    for direction, ascending in ((None, True), (flipped, False)):
        stack = slice_stack(_image(vol, (1.0, 1.0, 3.0), direction))
        hu_centre = stack.hu[:, 64, 64]
        expected = np.arange(5) * 10.0
        np.testing.assert_allclose(hu_centre, expected if ascending else expected[::-1], atol=1e-3)
        per_slice = np.stack([np.full((128, 128), float(i)) for i in range(5)])
        back = stack.to_input_grid(per_slice)
        order = np.arange(5) if ascending else np.arange(5)[::-1]
        np.testing.assert_allclose(back[:, 20, 20], order, atol=1e-5)
        np.testing.assert_array_equal(stack.to_input_order(np.arange(5)), order)


def test_thickness_and_spacing_from_geometry():
    vol = np.zeros((3, 32, 32))
    stack = slice_stack(_image(vol, (1.0, 1.0, 5.0), _tilted(30.0)))
    assert stack.slice_spacing == pytest.approx(5.0 * math.cos(math.radians(30.0)))
    assert stack.slice_thickness == pytest.approx(stack.slice_spacing)
    given = slice_stack(
        _image(vol, (1.0, 1.0, 5.0)), slice_thickness=parse_thickness({"SliceThickness": "5.0 "})
    )
    assert given.slice_thickness == 5.0
    assert parse_thickness({}) is None
    with pytest.raises(ValueError, match="SliceThickness"):
        parse_thickness({"SliceThickness": "thick"})


def test_bad_input_is_refused():
    import SimpleITK as sitk

    with pytest.raises(ValueError, match="scalar 3D"):
        slice_stack(sitk.Image(8, 8, sitk.sitkFloat32))
    stack = slice_stack(_image(np.zeros((2, 16, 16))))
    with pytest.raises(ValueError, match="maps must have shape"):
        stack.to_input_grid(np.zeros((2, 16, 16)))


def test_model_pixels_sit_where_the_convention_says():
    """Model pixel (i, j) samples the input at the centred pixel-centre position
    y = (ny-1)/2 + (i - (h-1)/2) * p/sy (same for x). A linear HU ramp (which the
    anti-aliasing blur leaves unchanged away from the border) reads the position back; a
    half-model-pixel shift would be off by 2 input pixels here (0.5 * 4) and fails."""
    ny, nx, h = 256, 320, 80
    sy, sx = 0.5, 0.5
    yy, xx = np.mgrid[0:ny, 0:nx].astype(float)
    vol = np.stack([yy * 0.1, xx * 0.1])  # slice 0: a ramp along y, slice 1: along x
    stack = slice_stack(_image(vol, (sx, sy, 5.0)), SliceConfig(slice_shape=(h, h)))
    p = stack.pixel_mm
    assert p == pytest.approx(max(ny * sy, nx * sx) / h)
    i = np.arange(h)
    y_expected = (ny - 1) / 2 + (i - (h - 1) / 2) * p / sy
    x_expected = (nx - 1) / 2 + (i - (h - 1) / 2) * p / sx
    inner_y = (y_expected > 8) & (y_expected < ny - 9)
    inner_x = (x_expected > 8) & (x_expected < nx - 9)
    np.testing.assert_allclose(stack.hu[0, inner_y, h // 2] / 0.1, y_expected[inner_y], atol=0.05)
    np.testing.assert_allclose(stack.hu[1, h // 2, inner_x] / 0.1, x_expected[inner_x], atol=0.05)
    assert stack.hu[0, 0, h // 2] == -1024.0  # outside the field of view: air


def test_inverse_equals_simpleitk_resampling():
    """The separable inverse gives SimpleITK's linear resampling of the model grid onto the
    input grid (physical space), on a sheared, non-square grid too."""
    from inference.geometry import to_grid

    rng = np.random.default_rng(3)
    img = _image(np.zeros((3, 150, 210)), (0.7, 0.9, 4.0), _tilted(15.0))
    stack = slice_stack(img, SliceConfig(slice_shape=(96, 96)))
    maps = rng.random((3, 96, 96)).astype(np.float32)
    ours = stack.to_input_grid(maps)
    theirs = to_grid(stack.to_input_order(maps), stack.slice_grid, stack.input_grid)
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
