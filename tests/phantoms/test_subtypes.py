"""make_subtype_case: each haemorrhage subtype in its compartment, measured on the images."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from phantoms.anatomy import TISSUE
from phantoms.subtype_case import make_subtype_case
from phantoms.subtypes import CODES, SUBTYPES

from .shape_measures import (
    centroid_mm,
    largest_slice,
    max_inside_distance_mm,
    radial_profile,
    solidity,
)

SEEDS = (40, 41, 42, 43)
BLOOD = (TISSUE["hematoma"], TISSUE["sah"])
INTRACRANIAL = [TISSUE[t] for t in ("csf", "grey", "white", "vessel")]


@pytest.fixture(scope="module")
def normals():
    return {seed: make_subtype_case(seed, (), matrix=128) for seed in SEEDS}


@pytest.fixture(scope="module")
def extraaxial():
    return {
        (seed, st): make_subtype_case(seed, (st,), matrix=128)
        for seed in SEEDS
        for st in ("sdh", "edh")
    }


def _centre_px(case, slice_k):
    """(row, column) of the head centre on a slice of an untilted case."""
    x, y, _ = case.landmarks["head_center"]
    return ((y - case.origin[1]) / case.grid.px, (x - case.origin[0]) / case.grid.px)


def test_normal_head_has_no_blood(normals):
    for case in normals.values():
        assert not case.ich_present
        assert case.subtypes == ()
        assert case.location == ""
        assert not case.label_map.any()
        assert not np.isin(case.tissues, BLOOD).any()
        assert all(sum(flags.values()) == 0 for flags in case.slice_labels())


def test_bleeding_and_normal_variants_share_the_anatomy(normals, extraaxial):
    for (seed, _), case in extraaxial.items():
        keep = ~np.isin(case.tissues, BLOOD)
        assert np.array_equal(case.tissues[keep], normals[seed].tissues[keep])
        assert case.uids["study_instance_uid"] != normals[seed].uids["study_instance_uid"]
        assert case.patient == normals[seed].patient


@pytest.mark.parametrize("subtype", ["sdh", "edh"])
def test_extraaxial_blood_lies_against_the_inner_table(subtype, normals, extraaxial):
    for seed in SEEDS:
        case = extraaxial[seed, subtype]
        mask = case.mask(subtype).astype(bool)
        assert case.subtypes == (subtype,)
        bone = normals[seed].tissues == TISSUE["bone"]
        # inside the skull (where the normal head has CSF, brain or vessels) ...
        assert np.isin(normals[seed].tissues[mask], INTRACRANIAL).mean() > 0.99
        # ... and touching the inner table on every slice it covers
        for k in np.nonzero(mask.reshape(case.n_slices, -1).sum(axis=1) >= 20)[0]:
            assert (ndimage.binary_dilation(mask[k], iterations=2) & bone[k]).any(), (seed, k)
        # acute blood (the median: voxels at the inner table share some bone)
        assert 50.0 <= np.median(case.volume_hu[mask]) <= 80.0


def test_sdh_is_a_crescent_and_edh_a_lens(extraaxial):
    """SDH: wide, even and concave toward the brain; EDH: convex, thickest in its middle."""
    for seed in SEEDS:
        sdh, edh = extraaxial[seed, "sdh"], extraaxial[seed, "edh"]
        ms, me = sdh.mask("sdh"), edh.mask("edh")
        ks, ke = largest_slice(ms), largest_slice(me)
        assert solidity(ms[ks]) < 0.6, seed
        assert solidity(me[ke]) > 0.8, seed
        prof = radial_profile(me[ke], _centre_px(edh, ke), edh.grid.px)
        thirds = np.array_split(prof, 3)
        assert 2 <= int(np.argmax(prof)) <= len(prof) - 3, (seed, prof)
        assert thirds[1].max() > 1.3 * max(thirds[0][0], thirds[2][-1]), (seed, prof)
        even = radial_profile(ms[ks], _centre_px(sdh, ks), sdh.grid.px)[1:-1]
        assert even.min() > 0.5 * even.max(), (seed, even)


def test_ivh_fills_the_ventricles(normals):
    for seed in SEEDS:
        case = make_subtype_case(seed, ("ivh",), matrix=128)
        mask = case.mask("ivh").astype(bool)
        assert case.subtypes == ("ivh",)
        # where the normal head of the same patient has CSF, deep in the head
        assert (normals[seed].tissues[mask] == TISSUE["csf"]).mean() > 0.95
        offset = centroid_mm(case, mask) - np.array(case.landmarks["head_center"])
        assert np.linalg.norm(offset) < 40.0, offset
        assert 50.0 <= case.volume_hu[mask].mean() <= 80.0


def test_sah_is_thin_and_in_the_csf_spaces(normals):
    for seed in SEEDS:
        thin = make_subtype_case(seed, ("sah", "iph"), location="lobar", matrix=128, thin=True)
        sah, iph = thin.mask("sah"), thin.mask("iph")
        assert thin.subtypes == ("iph", "sah")
        half_sah = max_inside_distance_mm(sah, thin.spacing)
        assert half_sah <= 5.0, seed
        assert max_inside_distance_mm(iph, thin.spacing) > 2.0 * half_sah, seed
        thick = make_subtype_case(seed, ("sah",), matrix=128)
        mask = thick.mask("sah").astype(bool)
        assert (normals[seed].tissues[mask] == TISSUE["csf"]).mean() > 0.4
        # hyperdense where the same head has CSF; thin, so partial volume lowers the mean
        hu, before = thick.volume_hu[mask], normals[seed].volume_hu[mask]
        assert hu.mean() - before.mean() > 25.0, seed
        assert 50.0 <= np.percentile(hu, 90) <= 85.0, seed


def _location_of(case) -> str:
    """Where the haematoma's centroid lies, from the anatomy's landmarks."""
    c = centroid_mm(case, case.mask("iph"))
    centre = np.array(case.landmarks["head_center"])
    if c[2] < case.landmarks["tentorium_z"] and c[1] > centre[1]:
        return "subtentorial"
    return "deep" if np.linalg.norm(c - centre) < 32.0 else "lobar"


@pytest.mark.parametrize("location", ["deep", "lobar", "subtentorial"])
def test_iph_location_classes(location):
    for seed in range(60, 66):
        case = make_subtype_case(seed, ("iph",), location=location, matrix=64)
        assert case.subtypes == ("iph",)
        assert case.location == location
        assert _location_of(case) == location, seed
        # haematoma, not its oedema
        assert np.all(case.tissues[case.mask("iph") > 0] == TISSUE["hematoma"])


def test_several_subtypes_in_one_case_and_their_slice_labels():
    case = make_subtype_case(7, SUBTYPES, location="deep", matrix=96)
    assert case.subtypes == SUBTYPES
    assert set(np.unique(case.label_map)) == {0, *CODES.values()}
    labels = case.slice_labels()
    assert len(labels) == case.n_slices
    for k, flags in enumerate(labels):
        for name, code in CODES.items():
            assert flags[name] == int((case.label_map[k] == code).any())
        assert flags["any"] == int(any(flags[s] for s in SUBTYPES))
    for name in SUBTYPES:
        assert 0 < sum(f[name] for f in labels) < case.n_slices
        assert case.hemorrhage[name]["volume_ml"] > 0


def test_thick_and_thin_series_of_a_case_agree():
    thick = make_subtype_case(9, ("iph", "edh"), location="lobar", matrix=96)
    thin = make_subtype_case(9, ("iph", "edh"), location="lobar", matrix=96, thin=True)
    assert thin.spacing[2] < thick.spacing[2]
    assert thick.uids["study_instance_uid"] == thin.uids["study_instance_uid"]
    assert thick.uids["frame_of_reference_uid"] == thin.uids["frame_of_reference_uid"]
    assert thick.uids["series_instance_uid"] != thin.uids["series_instance_uid"]
    for name in ("iph", "edh"):
        a, b = centroid_mm(thick, thick.mask(name)), centroid_mm(thin, thin.mask(name))
        assert np.linalg.norm(a - b) < 1.5, name
        va, vb = thick.hemorrhage[name]["volume_ml"], thin.hemorrhage[name]["volume_ml"]
        assert vb == pytest.approx(va, rel=0.1)


def test_same_seed_same_case():
    a = make_subtype_case(5, ("ivh", "sah"), matrix=64)
    b = make_subtype_case(5, ("ivh", "sah"), matrix=64)
    c = make_subtype_case(6, ("ivh", "sah"), matrix=64)
    assert np.array_equal(a.volume_hu, b.volume_hu)
    assert np.array_equal(a.label_map, b.label_map)
    assert a.hemorrhage == b.hemorrhage
    assert not np.array_equal(a.volume_hu[: c.n_slices], c.volume_hu[: a.n_slices])


@pytest.mark.parametrize(
    ("subtypes", "location", "words"),
    [
        (("cph",), "", "unknown subtype"),
        (("sah", "sah"), "", "listed twice"),
        (("iph",), "", "location"),
        (("sdh",), "deep", "location"),
        (("iph",), "frontal", "location must be one of"),
    ],
)
def test_bad_requests_are_refused(subtypes, location, words):
    with pytest.raises(ValueError, match=words):
        make_subtype_case(1, subtypes, location=location, matrix=32)
