"""make_case: geometry, anatomy HU, class phenotypes, determinism."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from phantoms import LABELS, PhantomCase, make_case
from phantoms.anatomy import TISSUE

from .helpers import perihematomal_low_density


def test_labels_positive_first():
    assert LABELS == ("cvst_ich", "sich")
    assert make_case(1, "cvst_ich", matrix=64).truth == 1
    assert make_case(1, "sich", matrix=64).truth == 0


def test_unknown_label_rejected():
    with pytest.raises(ValueError, match="label"):
        make_case(1, "sah", matrix=64)


def test_default_case_geometry(case_512):
    c = case_512
    assert isinstance(c, PhantomCase)
    assert c.volume_hu.dtype == np.int16
    assert c.mask.dtype == np.uint8
    nz, ny, nx = c.volume_hu.shape
    assert (ny, nx) == (512, 512)
    assert c.mask.shape == c.volume_hu.shape
    assert 24 <= nz <= 36
    sx, sy, sz = c.spacing
    assert sx == sy
    assert 220.0 <= sx * 512 <= 240.0
    assert 4.5 <= sz <= 5.5
    assert c.slice_thickness == sz
    assert c.direction == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    # the image is centred on the scanner axis: first voxel at -(fov - pixel) / 2
    assert c.origin[0] == pytest.approx(-(nx - 1) * sx / 2, abs=1e-3)
    assert c.case_id
    assert c.seed == 21
    assert c.label == "cvst_ich"


def test_case_is_immutable(case_512):
    with pytest.raises(dataclasses.FrozenInstanceError):
        case_512.label = "sich"
    with pytest.raises(ValueError, match="read-only"):
        case_512.volume_hu[0, 0, 0] = 0


def test_sitk_views_share_geometry(case_512):
    img, msk = case_512.to_sitk(), case_512.mask_sitk()
    for im in (img, msk):
        assert im.GetSize() == (512, 512, case_512.n_slices)
        assert im.GetSpacing() == pytest.approx(case_512.spacing)
        assert im.GetOrigin() == pytest.approx(case_512.origin)
        assert im.GetDirection() == pytest.approx(case_512.direction)


def test_tissue_hu_ranges(case_512):
    v, t = case_512.volume_hu.astype(float), case_512.tissues
    brain = (t == TISSUE["grey"]) | (t == TISSUE["white"])
    assert 25.0 <= v[brain].mean() <= 40.0
    assert v[t == TISSUE["grey"]].mean() > v[t == TISSUE["white"]].mean()
    # CSF: the median, because the thin CSF rim shares voxels with bone (partial volume)
    assert 0.0 <= np.median(v[t == TISSUE["csf"]]) <= 15.0
    assert v[t == TISSUE["bone"]].mean() > 600.0
    assert v[t == TISSUE["bone"]].max() > 1100.0
    assert abs(v[t == TISSUE["air"]].mean() + 1000.0) < 30.0
    edema = t == TISSUE["edema"]
    assert edema.any()
    assert 5.0 <= v[edema].mean() <= 22.0
    blood = v[case_512.mask > 0]
    assert 50.0 <= blood.mean() <= 80.0
    # noise: 4-8 HU in white matter away from edges
    assert 3.0 <= v[t == TISSUE["white"]].std() <= 10.0


def test_mask_is_hematoma_not_edema(case_512):
    t = case_512.tissues
    assert case_512.mask.sum() > 0
    assert np.all(t[case_512.mask > 0] == TISSUE["hematoma"])
    assert not np.any(case_512.mask[t == TISSUE["edema"]])


def test_signs_recorded(case_512):
    s = case_512.signs
    for key in ("cord_sign", "edema_ratio", "location", "hematoma_volume_ml"):
        assert key in s
    assert isinstance(s["cord_sign"], bool)
    voxel_ml = np.prod(case_512.spacing) / 1000.0
    assert s["hematoma_volume_ml"] == pytest.approx(case_512.mask.sum() * voxel_ml, rel=1e-3)


def test_same_seed_same_case_different_seed_different():
    a = make_case(5, "sich", matrix=96)
    b = make_case(5, "sich", matrix=96)
    c = make_case(6, "sich", matrix=96)
    assert np.array_equal(a.volume_hu, b.volume_hu)
    assert np.array_equal(a.mask, b.mask)
    assert a.signs == b.signs
    assert a.patient == b.patient
    assert a.uids == b.uids
    assert not np.array_equal(a.volume_hu[: c.n_slices], c.volume_hu[: a.n_slices])
    assert a.patient["PatientName"] != c.patient["PatientName"]
    assert a.uids["study_instance_uid"] != c.uids["study_instance_uid"]


def test_matrix_keeps_field_of_view():
    small = make_case(9, "sich", matrix=160)
    big = make_case(9, "sich", matrix=512)
    assert small.volume_hu.shape[1:] == (160, 160)
    fov_small, fov_big = small.spacing[0] * 160, big.spacing[0] * 512
    assert fov_small == pytest.approx(fov_big, abs=0.01)
    assert small.n_slices == big.n_slices
    assert small.spacing[2] == big.spacing[2]


def test_thin_slices():
    c = make_case(4, "cvst_ich", thin=True, matrix=64)
    assert 1.0 <= c.spacing[2] <= 1.25
    assert c.slice_thickness == c.spacing[2]
    assert 110 <= c.n_slices <= 170
    assert c.mask.sum() > 0


@pytest.mark.parametrize("label", LABELS)
def test_every_case_has_a_hematoma(label):
    for seed in range(12):
        c = make_case(100 + seed, label, matrix=64)
        assert c.signs["hematoma_volume_ml"] >= 1.0, seed


def test_cvst_has_more_edema_than_sich():
    """Measured on the images: low-density tissue around the clot, per clot voxel."""
    ratios = {label: [] for label in LABELS}
    for seed in range(10):
        for label in LABELS:
            c = make_case(300 + seed, label, matrix=128)
            ratios[label].append(perihematomal_low_density(c.volume_hu, c.mask, c.spacing))
    cvst, sich = np.mean(ratios["cvst_ich"]), np.mean(ratios["sich"])
    assert cvst > 1.3 * sich, (cvst, sich)
    # ... but the classes overlap: not every CVST case out-oedemas every sICH case
    assert min(ratios["cvst_ich"]) < max(ratios["sich"])


def test_cvst_phenotype_frequencies():
    """Across seeds: convexity location, irregular margins and hyperdense veins favour CVST."""
    signs = {
        label: [make_case(500 + s, label, matrix=32).signs for s in range(30)] for label in LABELS
    }
    cord = {k: np.mean([s["cord_sign"] for s in v]) for k, v in signs.items()}
    deep = {k: np.mean([s["location"] == "deep" for s in v]) for k, v in signs.items()}
    irregular = {k: np.mean([s["margin"] == "irregular" for s in v]) for k, v in signs.items()}
    assert cord["cvst_ich"] >= 0.3 > 0.2 >= cord["sich"]
    assert deep["sich"] > deep["cvst_ich"]
    assert irregular["cvst_ich"] > irregular["sich"]
