"""Sensitivity / specificity MRMC (MRMCaov 0.3.0) and DeLong-covariance OR analyses."""

import numpy as np
import pytest

from readerstudy.analysis.fom import fom_from_arrays
from readerstudy.analysis.mrmc import mrmc_analysis
from readerstudy.analysis.mrmc_or import or_analysis

from .refdata import mrmc_dataset, parse_mrmcaov_block, vandyke_reads


@pytest.mark.parametrize(
    ("fom", "title"),
    [
        ("sensitivity", "VanDyke binary_sens (rating>=3)"),
        ("specificity", "VanDyke binary_spec (rating>=3)"),
    ],
)
def test_binary_fom_matches_mrmcaov(fom, title):
    ref = parse_mrmcaov_block(title)
    res = mrmc_analysis(vandyke_reads(3), fom, ("unaided", "aided"))
    c = res.orr.components
    for key, got in (
        ("var_r", c.var_r),
        ("var_tr", c.var_tr),
        ("var_error", c.var),
        ("cov1", c.cov1),
        ("cov2", c.cov2),
        ("cov3", c.cov3),
    ):
        assert got == pytest.approx(ref[key], rel=1e-8), key
    ms_t, ms_tr, _, _, den, f, df1, ddf, p = ref["global"]
    assert (c.ms_t, c.ms_tr) == pytest.approx((ms_t, ms_tr), rel=1e-8)
    assert res.orr.rrrc["error_term"] == pytest.approx(den, rel=1e-8)
    assert (res.orr.rrrc["F"], res.orr.rrrc["ddf"], res.orr.rrrc["p"]) == pytest.approx(
        (f, ddf, p), rel=1e-8
    )
    # MRMCaov prints trt1 - trt2 = unaided - aided
    est, se, df, lo, hi, t, p2 = ref["pairwise"]
    row = res.orr.difference("rrrc", "unaided", "aided")
    assert (
        row["estimate"],
        row["se"],
        row["df"],
        row["ci_low"],
        row["ci_high"],
        row["stat"],
        row["p"],
    ) == pytest.approx((est, se, df, lo, hi, t, p2), rel=1e-8)


def test_jackknife_over_all_cases_changes_sensitivity_f():
    """statistics.md 3.5: jackknifing sensitivity over all 114 cases gives F 6.644203."""
    truth_class = mrmc_analysis(vandyke_reads(3), "sensitivity").orr.rrrc
    all_cases = mrmc_analysis(vandyke_reads(3), "sensitivity", jackknife_cases="all").orr.rrrc
    assert all_cases["F"] == pytest.approx(6.644203, rel=1e-6)
    assert all_cases["ddf"] == pytest.approx(15.93233, rel=1e-6)
    assert truth_class["F"] != pytest.approx(all_cases["F"], rel=1e-3)


# DeLong-covariance anchors: MRMCaov JSS text / RJafroc goodValues361 DeLongDataset02.rds
# (VanDyke) and RJafroc/MRMCaov (Franken), as collected in the project's statistics notes.
DELONG = {
    "VanDyke": dict(
        var=0.0007921324531,
        cov1=0.0003420089577,
        cov2=0.000339526531,
        cov3=0.0002358496532,
        F=4.484854322,
        ddf=15.06610794,
        p=0.05123303082,
        se=0.02068250479,
        ci=(-0.08786719602, 0.0002665518977),
    ),
    "Franken": dict(
        var=0.001506854989, cov1=0.0007820730233, cov2=0.0004792514482, cov3=0.0005074357585
    ),
}


@pytest.mark.parametrize("name", ["VanDyke", "Franken"])
def test_or_with_delong_covariance(name):
    ratings, truth, mods, readers, _ = mrmc_dataset(name)
    res = or_analysis(fom_from_arrays("auc", truth, ratings, mods, readers), "delong")
    ref, c = DELONG[name], res.components
    assert (c.var, c.cov1, c.cov2, c.cov3) == pytest.approx(
        (ref["var"], ref["cov1"], ref["cov2"], ref["cov3"]), rel=1e-8
    )
    if "F" in ref:
        row = res.rrrc["pairwise"].iloc[0]
        assert (res.rrrc["F"], res.rrrc["ddf"], res.rrrc["p"], row["se"]) == pytest.approx(
            (ref["F"], ref["ddf"], ref["p"], ref["se"]), rel=1e-8
        )
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(ref["ci"], rel=1e-7)


def test_single_reader_se_differs_between_delong_and_jackknife():
    ratings, truth, mods, readers, _ = mrmc_dataset("VanDyke")
    data = fom_from_arrays("auc", truth, ratings, mods, readers)
    dl, jk = np.diag(data.covariance("delong")), np.diag(data.covariance("jackknife"))
    # reader 1 trt 1: DeLong 0.0008961210 vs jackknife 0.0301255164^2 (MRMCaov)
    assert dl[0] == pytest.approx(0.0008961210453, rel=1e-8)
    assert np.sqrt(jk[0]) == pytest.approx(0.0301255164, rel=1e-8)
