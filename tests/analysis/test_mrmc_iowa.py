"""OR / DBM analyses reproduce the OR-DBM MRMC 2.51 outputs for VanDyke and Franken."""

import numpy as np
import pytest

from readerstudy.analysis.fom import fom_from_arrays, fom_from_reads
from readerstudy.analysis.mrmc import mrmc_analysis
from readerstudy.analysis.mrmc_dbm import dbm_analysis
from readerstudy.analysis.mrmc_or import or_analysis

from .refdata import assert_printed, mrmc_dataset, parse_iowa, vandyke_reads

DATASETS = ["VanDyke", "Franken"]


@pytest.fixture(scope="module", params=DATASETS)
def case(request):
    ratings, truth, mods, readers, _ = mrmc_dataset(request.param)
    data = fom_from_arrays("auc", truth, ratings, mods, readers)
    ref = parse_iowa(request.param)
    # the parser found every table it is compared with
    r = len(readers)
    assert len(ref["auc"]) == r and len(ref["frrc_reader"]) == r
    assert len(ref["frrc_var_by_reader"]) == r
    for key in ("means", "rrrc_single", "frrc_single", "rrfc_single", "frrc_var_by_modality"):
        assert len(ref[key]) == 2, key
    return {
        "name": request.param,
        "ref": ref,
        "data": data,
        "or": or_analysis(data, "jackknife"),
        "dbm": dbm_analysis(data),
    }


def test_reader_aucs_means_and_difference(case):
    ref, data = case["ref"], case["data"]
    assert data.theta.shape == (2, len(ref["auc"]))
    for j, row in enumerate(ref["auc"]):
        for i in range(2):
            assert_printed(data.theta[i, j], row[i], f"AUC reader {j + 1} trt {i + 1}")
    means = data.theta.mean(axis=1)
    for i in range(2):
        assert_printed(means[i], ref["means"][i], "mean AUC")
    assert_printed(means[0] - means[1], ref["diff"], "difference")


def test_anova_and_or_components(case):
    ref, c = case["ref"], case["or"].components
    assert_printed(c.ms_t, ref["anova"]["T"]["ms"], "MS(T)")
    assert_printed(c.ms_r, ref["anova"]["R"]["ms"], "MS(R)")
    assert_printed(c.ms_tr, ref["anova"]["T*R"]["ms"], "MS(TR)")
    for i in range(2):
        assert_printed(c.ms_r_by_modality[i], ref["ms_r_by_modality"][i], "MS(R)_i")
    assert_printed(c.var_r, ref["or"]["var_r"], "Var(R)")
    assert_printed(c.var_tr, ref["or"]["var_tr"], "Var(T*R)")
    assert_printed(c.var, ref["or"]["var_error"], "Var(Error)")
    for k in ("cov1", "cov2", "cov3"):
        value, corr = ref["or"][k]
        assert_printed(getattr(c, k), value, k)
        assert_printed(getattr(c, k) / c.var, corr, f"{k} correlation")


def test_dbm_variance_components(case):
    ref, vc = case["ref"]["dbm"], case["dbm"].var_components
    for key in ("var_r", "var_c", "var_tr", "var_tc", "var_rc", "var_trc_error"):
        assert_printed(vc[key], ref[key], key)


def test_rrrc(case):
    ref, rr = case["ref"]["rrrc"], case["or"].rrrc
    assert_printed(rr["F"], ref["F"], "F")
    assert_printed(rr["ddf"], ref["ddf"], "ddf")
    assert_printed(rr["p"], ref["p"], "p")
    assert_printed(rr["error_term"], ref["error_term"], "error term")
    row = rr["pairwise"].iloc[0]
    for key, col in (("diff", "estimate"), ("se", "se"), ("df", "df"), ("t", "stat"), ("p_t", "p")):
        assert_printed(row[col], ref[key], key)
    assert_printed(row["ci_low"], ref["ci"][0], "ci low")
    assert_printed(row["ci_high"], ref["ci"][1], "ci high")
    for i, single in enumerate(case["ref"]["rrrc_single"]):
        got = rr["single"].iloc[i]
        assert_printed(got["estimate"], single["auc"], "single AUC")
        assert_printed(got["se"], single["se"], "single SE")
        assert_printed(got["df"], single["df"], "single df")
        assert_printed(got["ci_low"], single["ci"][0], "single CI")
        assert_printed(got["ci_high"], single["ci"][1], "single CI")
        assert_printed(got["cov2"], single["cov2"], "single Cov2")


def test_dbm_rrrc_equals_or_jackknife(case):
    """Hillis et al. 2005: DBM with ddf_H is OR with jackknife covariances."""
    o, d = case["or"].rrrc, case["dbm"].rrrc
    assert d["F"] == pytest.approx(o["F"], rel=1e-9)
    assert d["ddf"] == pytest.approx(o["ddf"], rel=1e-9)
    cols = ["estimate", "se", "ci_low", "ci_high", "p"]
    np.testing.assert_allclose(
        d["pairwise"][cols].to_numpy(float), o["pairwise"][cols].to_numpy(float), rtol=1e-9
    )
    np.testing.assert_allclose(
        d["single"][["se", "df"]].to_numpy(float),
        o["single"][["se", "df"]].to_numpy(float),
        rtol=1e-9,
    )


def test_frrc(case):
    ref, fr = case["ref"], case["or"].frrc
    assert_printed(fr["X2"], ref["frrc"]["X2"], "X2")
    assert_printed(fr["p"], ref["frrc"]["p"], "p")
    row = fr["pairwise"].iloc[0]
    for key, col in (("diff", "estimate"), ("se", "se"), ("z", "stat"), ("p_z", "p")):
        assert_printed(row[col], ref["frrc"][key], key)
    assert_printed(row["ci_low"], ref["frrc"]["ci"][0], "ci")
    assert_printed(row["ci_high"], ref["frrc"]["ci"][1], "ci")
    for i, single in enumerate(ref["frrc_single"]):
        got = fr["single"].iloc[i]
        assert_printed(got["se"], single["se"], "single SE")
        assert_printed(got["ci_low"], single["ci"][0], "single CI")
        assert_printed(got["ci_high"], single["ci"][1], "single CI")
    c = case["or"].components
    for i, (_, var, cov2) in enumerate(ref["frrc_var_by_modality"]):
        assert_printed(c.var_by_modality[i], var, "Var_i")
        assert_printed(c.cov2_by_modality[i], cov2, "Cov2_i")
    for j, (_, var, cov1) in enumerate(ref["frrc_var_by_reader"]):
        assert_printed(c.var_by_reader[j], var, "Var_j")
        assert_printed(c.cov1_by_reader[j], cov1, "Cov1_j")
    per = fr["per_reader"]
    assert len(per) == len(ref["frrc_reader"])
    for j, r in enumerate(ref["frrc_reader"]):
        got = per.iloc[j]
        for key, col in (("diff", "estimate"), ("se", "se"), ("z", "stat"), ("p", "p")):
            assert_printed(got[col], r[key], f"reader {r['reader']} {key}")
        assert_printed(got["ci_low"], r["ci"][0], "reader CI")
        assert_printed(got["ci_high"], r["ci"][1], "reader CI")


def test_rrfc(case):
    ref, rf = case["ref"], case["or"].rrfc
    assert_printed(rf["F"], ref["rrfc"]["F"], "F")
    assert_printed(rf["p"], ref["rrfc"]["p"], "p")
    row = rf["pairwise"].iloc[0]
    for key, col in (("diff", "estimate"), ("se", "se"), ("df", "df"), ("t", "stat")):
        assert_printed(row[col], ref["rrfc"][key], key)
    assert_printed(row["ci_low"], ref["rrfc"]["ci"][0], "ci")
    assert_printed(row["ci_high"], ref["rrfc"]["ci"][1], "ci")
    for i, single in enumerate(ref["rrfc_single"]):
        got = rf["single"].iloc[i]
        assert_printed(got["se"], single["se"], "single SE")
        assert_printed(got["df"], single["df"], "single df")
        assert_printed(got["ci_low"], single["ci"][0], "single CI")
        assert_printed(got["ci_high"], single["ci"][1], "single CI")


def test_franken_exercises_the_clipping():
    """Cov2 < Cov3 in Franken: the RRRC error term is MS(TR) alone and ddf = (t-1)(r-1)."""
    ratings, truth, mods, readers, _ = mrmc_dataset("Franken")
    res = or_analysis(fom_from_arrays("auc", truth, ratings, mods, readers))
    c = res.components
    assert c.cov2 < c.cov3
    assert res.rrrc["error_term"] == pytest.approx(c.ms_tr, rel=1e-12)
    assert res.rrrc["ddf"] == pytest.approx(3.0, rel=1e-12)


def test_read_table_path_matches_array_path():
    """fom_from_reads (pivoting a read table) gives the same FOMs and covariance."""
    ratings, truth, mods, readers, _ = mrmc_dataset("VanDyke")
    direct = fom_from_arrays("auc", truth, ratings, mods, readers)
    via_reads = fom_from_reads(vandyke_reads(), "auc", ["unaided", "aided"])
    np.testing.assert_allclose(via_reads.theta, direct.theta, rtol=1e-12)
    np.testing.assert_allclose(via_reads.jackknife_cov(), direct.jackknife_cov(), rtol=1e-10)


def test_mrmc_result_reports_aided_minus_unaided():
    res = mrmc_analysis(vandyke_reads(), "auc").to_dict()
    ref = parse_iowa("VanDyke")["rrrc"]
    # Iowa prints trt1 - trt2 = unaided - aided; the report uses aided - unaided
    assert_printed(-res["or_rrrc"]["diff"], ref["diff"], "diff")
    assert_printed(-res["or_rrrc"]["ci_high"], ref["ci"][0], "ci")
    assert_printed(-res["or_rrrc"]["ci_low"], ref["ci"][1], "ci")
    assert_printed(res["or_rrrc"]["F"], ref["F"], "F")
    assert_printed(res["or_rrrc"]["ddf"], ref["ddf"], "ddf")
    assert res["or_rrrc"]["p"] == pytest.approx(res["dbm_rrrc"]["p"], rel=1e-9)
    per = res["per_reader"]
    iowa_readers = parse_iowa("VanDyke")["frrc_reader"]
    for got, r in zip(per, iowa_readers, strict=True):
        assert_printed(-got["diff"], r["diff"], "per-reader diff")
        assert_printed(-got["diff_ci_high"], r["ci"][0], "per-reader CI")
