"""Empirical ROC/AUC and DeLong against pROC 1.18.0 (aSAH documentation examples; VanDyke)."""

import numpy as np
import pandas as pd
import pytest

from readerstudy.analysis.delong import delong_ci, delong_paired
from readerstudy.analysis.mrmc import delong_per_reader
from readerstudy.analysis.roc import empirical_auc, roc_curve

from .refdata import DATA, vandyke_reads


@pytest.fixture(scope="module")
def asah():
    d = pd.read_csv(DATA / "aSAH.csv")
    return (d["outcome"] == "Poor").astype(int).to_numpy(), d


def test_asah_aucs_and_delong_cis(asah):
    truth, d = asah
    # pROC: auc(aSAH$outcome, aSAH$s100b) = 0.7314; ci.auc(..., method="delong")
    s = delong_ci(truth, d["s100b"])
    w = delong_ci(truth, d["wfns"])
    assert s["estimate"] == pytest.approx(0.7313685637, abs=1e-10)
    assert w["estimate"] == pytest.approx(0.8236788618, abs=1e-10)
    assert (s["ci_low"], s["ci_high"]) == pytest.approx((0.6301182, 0.8326189), abs=5e-8)
    assert (w["ci_low"], w["ci_high"]) == pytest.approx((0.7485349, 0.8988228), abs=5e-8)


def test_asah_paired_delong(asah):
    truth, d = asah
    # roc.test(roc(s100b), roc(wfns), method = "delong", paired = TRUE): AUC(s100b) - AUC(wfns)
    res = delong_paired(truth, d["wfns"], d["s100b"])
    assert res.z == pytest.approx(-2.2089836, abs=5e-8)
    assert res.p == pytest.approx(0.02717578, abs=5e-9)
    assert (res.ci_low, res.ci_high) == pytest.approx((-0.17421441925, -0.01040617696), abs=1e-10)


def test_empirical_auc_counts_ties_half():
    truth = np.array([1, 1, 0, 0])
    assert empirical_auc(truth, [2, 1, 1, 0]) == pytest.approx((1 + 1 + 1 + 0.5) / 4)
    curve = roc_curve(truth, [2, 1, 1, 0])
    assert curve.auc == pytest.approx(0.875)
    # vertices: +inf, >=2, >=1, >=0
    np.testing.assert_allclose(curve.tpr, [0, 0.5, 1, 1])
    np.testing.assert_allclose(curve.fpr, [0, 0, 0.5, 1])
    np.testing.assert_allclose(curve.cut_points[1:3], [1.5, 0.5])


def test_roc_area_equals_wilcoxon_auc(asah):
    truth, d = asah
    for col in ("s100b", "wfns", "ndka"):
        assert roc_curve(truth, d[col]).auc == pytest.approx(
            empirical_auc(truth, d[col]), abs=1e-12
        )


# pROC roc.test(method = "delong", paired = TRUE) per VanDyke reader, modality 1 vs 2
VANDYKE_READERS = [
    (0.0008961210453, 0.0004840321622, 0.0003684357485, -1.1110813211, 0.2665333472),
    (0.001306210549, 0.0008771618479, 0.0007499436628, -1.7800890393, 0.0750613901),
    (0.0007892421129, 0.0008749861523, 0.0003507923338, -0.5761009817, 0.5645469280),
    (0.0002965794141, 5.140410229e-07, 1.071034354e-06, -1.5283428280, 0.1264274417),
    (0.001718761542, 0.0006777156644, 0.0002398020092, -2.2877159133, 0.0221540704),
]


def test_vandyke_per_reader_paired_delong():
    tab = delong_per_reader(vandyke_reads(), ("aided", "unaided"))  # diff = unaided - aided
    assert len(tab) == 5
    for (_, row), ref in zip(tab.iterrows(), VANDYKE_READERS, strict=True):
        var1, var2, cov, z, p = ref
        # pROC's roc1 is modality 1 (unaided)
        assert (row["var_unaided"], row["var_aided"], row["cov"]) == pytest.approx(
            (var1, var2, cov), rel=1e-8
        )
        assert row["z"] == pytest.approx(z, rel=1e-8)
        assert row["p"] == pytest.approx(p, rel=1e-8)
