"""The DLRN's ROI path: the segmenter's mask from its segmentation stage alone, its small
detached components dropped, and the faster radiomics settings giving PyRadiomics' own
numbers."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import SimpleITK as sitk

from inference.zoo.dlrn import roi
from inference.zoo.dlrn.radiomics_features import PARAMS, extract_radiomics


def _blob(shape, centre, radius):
    zz, yy, xx = np.indices(shape)
    return ((zz - centre[0]) ** 2 + (yy - centre[1]) ** 2 + (xx - centre[2]) ** 2) <= radius**2


def test_components_below_the_fraction_of_the_largest_are_dropped():
    shape = (12, 64, 64)
    big = _blob(shape, (6, 20, 20), 5)
    sizeable = np.zeros(shape, bool)
    sizeable[2:4, 45:52, 45:52] = True  # 98 voxels
    speck = np.zeros(shape, bool)
    speck[9, 5:8, 50:53] = True  # 9 voxels
    n_big = int(big.sum())
    assert 98 >= 0.1 * n_big > 9
    kept, found, n_kept = roi.haematoma_components((big | sizeable | speck).astype(np.uint8), 0.1)
    assert (found, n_kept) == (3, 2)
    np.testing.assert_array_equal(kept.astype(bool), big | sizeable)
    assert kept.dtype == np.uint8
    one, found1, kept1 = roi.haematoma_components(big.astype(np.uint8), 0.1)
    assert (found1, kept1) == (1, 1) and np.array_equal(one.astype(bool), big)


def _small_case(seed=3):
    rng = np.random.default_rng(seed)
    shape = (8, 48, 48)
    hu = rng.normal(30.0, 8.0, size=shape).astype(np.float32)
    m = _blob(shape, (4, 24, 22), 9) & (np.indices(shape)[0] >= 2)
    hu[m] += 40.0 + rng.normal(0.0, 10.0, size=int(m.sum())).astype(np.float32)
    img = sitk.GetImageFromArray(hu)
    img.SetSpacing((0.45, 0.45, 5.0))
    img.SetOrigin((-10.0, 4.0, 20.0))
    mask = sitk.GetImageFromArray(m.astype(np.uint8))
    mask.CopyInformation(img)
    return img, mask


def test_resampled_mask_is_pyradiomics_resampling_of_image_and_mask():
    from radiomics import imageoperations

    img, mask = _small_case()
    _, expected = imageoperations.resampleImage(
        img,
        mask,
        resampledPixelSpacing=list(roi.SPACING),
        interpolator=sitk.sitkBSpline,
        padDistance=2,
    )
    got = roi.resampled_mask(img, mask)
    assert got.GetSize() == expected.GetSize()
    np.testing.assert_allclose(got.GetOrigin(), expected.GetOrigin())
    np.testing.assert_allclose(got.GetSpacing(), roi.SPACING)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(got), sitk.GetArrayFromImage(expected))


def test_radiomics_equal_pyradiomics_run_with_its_defaults():
    """No diagnostics and one BLAS thread change how fast, not what: every feature equals a
    plain ``RadiomicsFeatureExtractor(radiomics.yaml)`` run, exactly."""
    import radiomics
    from radiomics import featureextractor

    img, mask = _small_case()
    radiomics.setVerbosity(logging.ERROR)
    plain = featureextractor.RadiomicsFeatureExtractor(str(PARAMS)).execute(img, mask, label=1)
    assert any(k.startswith("diagnostics_") for k in plain)  # the defaults compute them
    expected = {
        k: float(np.asarray(v, dtype=float).reshape(-1)[0])
        for k, v in plain.items()
        if not k.startswith("diagnostics_")
    }
    got = extract_radiomics(img, mask)
    assert len(got) == 851
    assert list(got) == list(expected)
    np.testing.assert_array_equal(np.array(list(got.values())), np.array(list(expected.values())))


@pytest.fixture(scope="module")
def phantom():
    from phantoms.hematoma import make_hematoma_case

    # a phantom on which the seed-000 segmenter finds the haematoma and a few specks
    return make_hematoma_case(5001, "other", matrix=128, case_id="HMROI")


def _dice(a, b):
    return 2 * np.sum((a > 0) & (b > 0)) / (np.sum(a > 0) + np.sum(b > 0))


def test_segmentation_stage_alone_gives_the_predict_mask(phantom):
    pipeline = roi.segmenter()
    image = phantom.case.to_sitk()
    opts = {"threads": 2, "device": "cpu"}
    full = pipeline.predict(image, options=opts)
    alone = pipeline.segmentation_mask(image, options=opts)
    assert alone.dtype == np.uint8 and alone.shape == full.mask.shape
    np.testing.assert_array_equal(alone, full.mask)

    seg = roi.segmenter_mask(image, 2, pipeline)
    arr = sitk.GetArrayFromImage(seg.mask)
    assert seg.mask.GetSize() == image.GetSize()
    assert seg.mask.GetOrigin() == image.GetOrigin()
    assert set(np.unique(arr)) <= {0, 1}
    assert not np.any(arr & (1 - alone))  # only ever removes voxels
    assert seg.voxels_dropped == int(alone.sum()) - int(arr.sum()) > 0
    assert seg.components_found > seg.components_kept >= 1
    truth = phantom.case.mask
    # the specks are false positives: dropping them brings the ROI closer to the haematoma
    assert _dice(arr, truth) > _dice(alone, truth)
    assert _dice(arr, truth) > 0.9


def test_the_cards_feature_count_arithmetic_is_pyradiomics():
    """The model card explains why no filter set gives the seed's 1,834 features: shape once
    (14) plus 93 per image with PyRadiomics 3.0.1's classes; the shipped YAML's 9 images
    give 851."""
    from radiomics import getFeatureClasses

    from inference.zoo.dlrn.plugin import BUNDLE

    def enabled(name, deprecated=False):
        names = getFeatureClasses()[name].getFeatureNames()
        return sum(1 for dep in names.values() if deprecated or not dep)

    texture = ("firstorder", "glcm", "gldm", "glrlm", "glszm", "ngtdm")
    per_image = sum(enabled(c) for c in texture)
    assert (enabled("shape"), per_image) == (14, 93)
    assert 14 + 9 * per_image == 851
    assert all(14 + n * per_image != 1834 for n in range(1, 40))
    all_shape, all_image = enabled("shape", True), sum(enabled(c, True) for c in texture)
    assert (all_shape, all_image) == (17, 100)
    assert all(all_shape + n * all_image != 1834 for n in range(1, 40))
    card = (BUNDLE / "README.md").read_text(encoding="utf-8")
    assert "1,834 - 14 = 1,820 = 19 x 93 + 53" in card and "**851 features**" in card
