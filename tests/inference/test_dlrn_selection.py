"""Seed-001 DLRN parts on synthetic data: selection steps, nomogram arithmetic, storage,
radiomics, phantoms."""

from __future__ import annotations

import json
import math
import shutil
import zipfile

import numpy as np
import pytest
import SimpleITK as sitk

from inference.manifest import ModelLoadError
from inference.zoo.dlrn import selection as S
from inference.zoo.dlrn import store
from inference.zoo.dlrn.nomogram import Nomogram, Variable
from inference.zoo.dlrn.plugin import BUNDLE


def _data(n=80, seed=0):
    rng = np.random.default_rng(seed)
    y = (np.arange(n) < n // 4).astype(int)  # 25 % positives
    signal = y * 1.5 + rng.normal(size=n)
    noise = rng.normal(size=(n, 3))
    x = np.column_stack([signal, signal * 2.0 + 0.01 * rng.normal(size=n), noise])
    return x, y, ["signal", "signal_copy", "noise0", "noise1", "noise2"]


def test_selection_keeps_the_signal_and_prunes_its_copy():
    x, y, names = _data()
    sel = S.select(x, y, names, seed=0)
    assert len({"signal", "signal_copy"} & set(sel.names)) == 1  # one of the pair
    c = sel.counts
    assert c["input"] == 5 and c["smote_cases"] == 2 * int((y == 0).sum())
    assert c["mann_whitney"] >= 2 and c["pearson"] == c["mann_whitney"] - 1
    assert c["lasso"] == len(sel.names) == len(sel.lasso_coef) and np.all(sel.lasso_coef != 0)
    z = sel.transform(dict(zip(names, x[0], strict=True)))
    assert z.shape == (1, len(sel.names))
    assert S.Selection.from_json(json.loads(json.dumps(sel.to_json()))).names == sel.names


def test_smote_balances_training_only_and_needs_two_of_each():
    x, y, _ = _data()
    xs, ys = S.smote(x, y, seed=1)
    assert np.bincount(ys).tolist() == [60, 60]
    np.testing.assert_array_equal(xs[: len(x)], x)  # originals kept, synthetic ones added
    with pytest.raises(S.SelectionError, match="at least 2 cases of each class"):
        S.smote(x[:21], np.r_[1, np.zeros(20, int)], seed=1)


def test_mann_whitney_fails_when_no_feature_differs():
    y = np.r_[np.ones(10, int), np.zeros(10, int)]
    same = np.tile(np.arange(10.0), 2)[:, None]  # identical values in both classes
    with pytest.raises(S.SelectionError, match="Mann-Whitney U: no feature"):
        S.mann_whitney(np.hstack([same, same]), y)


def test_pearson_drops_the_less_significant_of_a_correlated_pair():
    rng = np.random.default_rng(3)
    a = rng.normal(size=50)
    z = np.column_stack([a, a + 0.01 * rng.normal(size=50), rng.normal(size=50)])
    kept = S.pearson_prune(z, np.array([0.01, 0.001, 0.02]))
    assert kept.tolist() == [1, 2]  # column 1 is more significant, column 0 goes


def test_lasso_fails_when_it_keeps_nothing():
    y = np.r_[np.ones(20, int), np.zeros(20, int)]
    with pytest.raises(S.SelectionError, match="LASSO .* kept no feature"):
        S.lasso(np.zeros((40, 3)), y, seed=0)


def test_select_rejects_bad_shapes_and_non_finite_values():
    x, y, names = _data()
    with pytest.raises(S.SelectionError, match="must be"):
        S.select(x, y, names[:2], seed=0)
    x[0, 0] = np.nan
    with pytest.raises(S.SelectionError, match="non-finite"):
        S.select(x, y, names, seed=0)


def test_nomogram_points_arithmetic():
    # beta*x ranges: a: 2 * [0, 1] -> 2 (widest, 0-100); b: -1 * [0, 1] -> 1 (0-50)
    nomo = Nomogram(-1.0, [Variable("a", 2.0, 0.0, 1.0, (0, 1)), Variable("b", -1.0, 0, 1, (0, 1))])
    assert nomo.points("a", 1.0) == 100.0 and nomo.points("a", 0.5) == 50.0
    assert nomo.points("b", 0.0) == 50.0 and nomo.points("b", 1.0) == 0.0
    s = nomo.score({"a": 0.5, "b": 1.0})
    assert s["points"] == {"a": 50.0, "b": 0.0} and s["total_points"] == 50.0
    # total points back to the linear predictor: -1 + 2*0.5 - 1*1 = -1
    assert s["probability"] == pytest.approx(1 / (1 + math.exp(1.0)))
    axes = nomo.axes()
    assert axes["variables"][1]["ticks"] == [
        {"value": 0, "points": 50.0},
        {"value": 1, "points": 0.0},
    ]
    assert axes["total_points"][-1] == 150.0
    for tick in axes["probability"]:
        assert nomo.probability(tick["total_points"]) == pytest.approx(
            tick["probability"], abs=1e-3
        )
    with pytest.raises(ValueError, match="zero range"):
        Nomogram(0.0, [Variable("c", 0.0, 0, 1, (0, 1))])


def test_shipped_bundle_has_no_pickle_and_loads_forests_with_trusted_types():
    for path in BUNDLE.iterdir():
        head = path.read_bytes()[:2]
        assert head != b"\x80\x04" and head != b"\x80\x05", f"{path.name} is a pickle"
    forest = store.load_forest(BUNDLE / store.forest_file("dlr"))
    assert forest.n_features_in_ == len(
        store.read_model_json(BUNDLE)["signatures"]["dlr"]["selection"]["names"]
    )


def test_untrusted_types_and_tampered_files_are_refused(tmp_path):
    import math as m

    import skops.io as sio
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    bad = tmp_path / "bad.skops"
    sio.dump(
        make_pipeline(FunctionTransformer(func=m.sqrt)), str(bad), compression=zipfile.ZIP_DEFLATED
    )
    with pytest.raises(ModelLoadError, match="untrusted types \\['math.sqrt'\\]"):
        store.load_forest(bad)
    copy = tmp_path / "bundle"
    shutil.copytree(BUNDLE, copy)
    (copy / "radiomics.yaml").write_text("imageType: {}\n")
    with pytest.raises(ModelLoadError, match="radiomics.yaml: sha256 differs"):
        store.read_model_json(copy)


def test_extract_radiomics_array_and_image_agree_and_bad_rois_fail():
    from inference.zoo.dlrn.radiomics_features import RoiError, extract_radiomics

    rng = np.random.default_rng(0)
    vol = (40 + 10 * rng.normal(size=(6, 40, 40))).astype(np.float32)
    mask = np.zeros(vol.shape, np.uint8)
    mask[2:5, 10:25, 12:28] = 1
    vol[mask == 1] += 30
    a = extract_radiomics(vol, mask, (0.5, 0.5, 5.0))
    img = sitk.GetImageFromArray(vol)
    img.SetSpacing((0.5, 0.5, 5.0))
    b = extract_radiomics(img, mask)
    assert len(a) == 851 and a == b
    assert {k.split("_")[0] for k in a} == {"original"} | {
        f"wavelet-{w}" for w in ("LLH", "LHL", "LHH", "HLL", "HLH", "HHL", "HHH", "LLL")
    }
    assert a["original_shape_VoxelVolume"] == pytest.approx(3 * 15 * 16 * 1.25)
    with pytest.raises(RoiError, match="empty"):
        extract_radiomics(vol, np.zeros_like(mask), (0.5, 0.5, 5.0))
    with pytest.raises(RoiError, match="needs spacing"):
        extract_radiomics(vol, mask, None)


def test_hematoma_phantoms_are_deterministic_and_differ_by_class():
    from phantoms.hematoma import hematoma_cases, hematoma_labels, make_hematoma_case

    a = make_hematoma_case(7, "other", matrix=64)
    b = make_hematoma_case(7, "other", matrix=64)
    assert a.covariates == b.covariates and a.etiology == b.etiology
    np.testing.assert_array_equal(a.case.volume_hu, b.case.volume_hu)
    assert a.etiology in ("hp", "caa", "avm")
    labels = hematoma_labels(200, 0)
    assert labels.count("cvt_related") == 50
    cases = hematoma_cases(60, 1, matrix=48, positive_fraction=0.5)
    cvt = [c for c in cases if c.label == "cvt_related"]
    other = [c for c in cases if c.label == "other"]
    rate = lambda group, key: np.mean([c.covariates[key] for c in group])  # noqa: E731
    assert rate(cvt, "seizure") > rate(other, "seizure") + 0.15
    assert np.mean([c.case.signs["edema_ratio"] for c in cvt]) > np.mean(
        [c.case.signs["edema_ratio"] for c in other]
    )
    assert all(c.etiology == "cvt" for c in cvt)
    with pytest.raises(ValueError, match="label must be one of"):
        make_hematoma_case(1, "cvst_ich")
