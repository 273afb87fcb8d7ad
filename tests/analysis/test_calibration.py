"""Calibration (rms::val.prob conventions), Hosmer-Lemeshow (ResourceSelection::hoslem.test) and
decision curves (dcurves::dca) against reference outputs.

- ``calibration_R_computed.txt``: base R 4.2.2 (glm, lowess, approx, quantile, cut, xtabs) run by
  ``calibration_reference.R`` on hoslem.test's documented example, dcurves' ``df_binary``
  prediction model, a miscalibrated (rounded, tied) version of it and the 0/1 family history.
- ``dcurves_r_dca_result_1.csv``: net benefit from R dcurves ``dca(cancer ~ cancerpredmarker +
  marker, df_binary, as_probability = "marker")``, as shipped in the Python dcurves repository.
"""

import math

import numpy as np
import pandas as pd
import pytest

from readerstudy.analysis.calibration import (
    calibration,
    hosmer_lemeshow,
    logistic_recalibration,
    risk_groups,
)
from readerstudy.analysis.decision_curve import DEFAULT_THRESHOLDS, decision_curve, net_benefit

from .refdata import DATA


def _r_reference() -> dict[str, np.ndarray]:
    out = {}
    for line in (DATA / "calibration_R_computed.txt").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        key, *values = line.split()
        out[key] = np.array([float(v) for v in values])
    return out


REF = _r_reference()


def _datasets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    db = pd.read_csv(DATA / "dcurves_df_binary.csv")
    cancer = db["cancer"].astype(str).str.upper().eq("TRUE").astype(int).to_numpy()
    ex = pd.read_csv(DATA / "hoslem_example.csv")
    sh = pd.read_csv(DATA / "calibration_shifted.csv")
    return {
        "hoslem_example": (ex["y"].to_numpy(), ex["p"].to_numpy()),
        "cancerpredmarker": (cancer, db["cancerpredmarker"].to_numpy()),
        "shifted": (sh["y"].to_numpy(), sh["p"].to_numpy()),
        "famhistory": (cancer, db["famhistory"].to_numpy(dtype=float)),
    }


SETS = _datasets()


def _close(value: float, ref: float, tol: float) -> bool:
    if math.isnan(ref):
        return math.isnan(value)
    return abs(value - ref) <= tol * max(1.0, abs(ref))


@pytest.mark.parametrize("name", list(SETS))
def test_calibration_matches_r(name):
    y, p = SETS[name]
    c = calibration(y, p)
    r = {k[len(name) + 1 :]: v for k, v in REF.items() if k.startswith(name + ".")}
    assert c["n"] == r["n"][0]
    assert c["brier"] == pytest.approx(r["brier"][0], abs=1e-14)
    for key in ("intercept", "slope", "citl"):
        assert _close(c[key], r[key][0], 1e-9), (key, c[key], r[key][0])
    assert c["n_excluded"] == r["n_excluded"][0]
    for key in ("eavg", "emax", "e90"):  # lowess(p, y, iter = 0) read with approx(ties = mean)
        assert c[key] == pytest.approx(r[key][0], abs=1e-9), key
    smooth = np.interp(r["smooth_at"], c["smooth"]["predicted"], c["smooth"]["observed"])
    # the returned curve is the lowess fit sampled on a grid of 101 risks: linear between samples
    assert smooth == pytest.approx(r["smooth_value"], abs=2e-3)


@pytest.mark.parametrize("name", list(SETS))
@pytest.mark.parametrize("g", [10, 5])
def test_hosmer_lemeshow_matches_r(name, g):
    y, p = SETS[name]
    hl = hosmer_lemeshow(y, p, g)
    r = {k.split(f".hl{g}.")[1]: v for k, v in REF.items() if k.startswith(f"{name}.hl{g}.")}
    assert hl["df"] == r["df"][0]
    assert [row["n"] for row in hl["groups"]] == r["n"].astype(int).tolist()
    assert [row["events"] for row in hl["groups"]] == r["observed"].astype(int).tolist()
    assert [row["expected"] for row in hl["groups"]] == pytest.approx(r["expected"], abs=1e-10)
    assert [row["mean_predicted"] for row in hl["groups"]] == pytest.approx(
        r["mean_predicted"], abs=1e-13
    )
    if hl["df"] > 0:
        assert hl["statistic"] == pytest.approx(r["statistic"][0], rel=1e-12)
        assert hl["p"] == pytest.approx(r["p"][0], rel=1e-9, abs=1e-300)
    else:  # a single group: no test
        assert math.isnan(hl["statistic"]) and math.isnan(hl["p"]) and math.isnan(r["p"][0])


@pytest.mark.parametrize("name", list(SETS))
def test_uniform_bins_match_r(name):
    y, p = SETS[name]
    bins = calibration(y, p, bins=10, strategy="uniform")["bins"]
    assert [b["n"] for b in bins] == REF[f"{name}.uniform.n"].astype(int).tolist()
    assert [b["observed"] for b in bins] == pytest.approx(REF[f"{name}.uniform.observed"])
    assert [b["mean_predicted"] for b in bins] == pytest.approx(
        REF[f"{name}.uniform.mean_predicted"]
    )


def test_hoslem_documented_example_has_ten_equal_groups():
    # hoslem.test's man-page example: 500 fitted risks, deciles of 50, chi-square on 8 df
    y, p = SETS["hoslem_example"]
    hl = hosmer_lemeshow(y, p)
    assert (hl["g"], hl["n_groups"], hl["df"]) == (10, 10, 8)
    assert {row["n"] for row in hl["groups"]} == {50}


def test_recalibration_excludes_risks_of_zero_and_one():
    y, p = SETS["shifted"]
    rec = logistic_recalibration(y, p)
    keep = (p > 0) & (p < 1)
    sub = logistic_recalibration(y[keep], p[keep])
    assert rec["n_excluded"] == int((~keep).sum()) > 0
    assert (rec["slope"], rec["intercept"]) == pytest.approx((sub["slope"], sub["intercept"]))


def test_constant_risk_gives_val_prob_intercept_and_zero_slope():
    y = np.array([0, 1, 1, 0, 1])
    rec = logistic_recalibration(y, np.full(5, 0.3))
    assert rec["slope"] == 0
    assert rec["intercept"] == pytest.approx(math.log(0.6 / 0.4))
    assert rec["citl"] == pytest.approx(math.log(0.6 / 0.4) - math.log(0.3 / 0.7))


def test_single_outcome_class_gives_nan_fit():
    rec = logistic_recalibration([0, 0, 0], [0.1, 0.2, 0.3])
    assert math.isnan(rec["slope"]) and not rec["converged"]


@pytest.mark.parametrize(
    ("y", "p", "match"),
    [
        ([0, 1, 2], [0.1, 0.2, 0.3], "0 or 1"),
        ([0, 1], [0.1, 1.2], r"\[0, 1\]"),
        ([0, 1], [0.1, float("nan")], r"\[0, 1\]"),
        ([0, 1, 1], [0.1, 0.2], "length"),
    ],
)
def test_invalid_inputs_are_rejected(y, p, match):
    with pytest.raises(ValueError, match=match):
        calibration(y, p)


def test_quantile_groups_follow_cut_include_lowest():
    # type-7 quantiles of 1..4 at 0, 1/2, 1 are 1, 2.5, 4: groups [1, 2.5], (2.5, 4]
    idx, breaks = risk_groups([1, 2, 3, 4], g=2)
    assert breaks.tolist() == [1, 2.5, 4]
    assert idx.tolist() == [0, 0, 1, 1]
    # quartiles 0.2, 0.2, 0.2, 0.5, 0.9 collapse to breaks 0.2, 0.5, 0.9; 0.5 closes group 1
    idx, breaks = risk_groups([0.2, 0.2, 0.2, 0.5, 0.9], g=4)
    assert breaks.tolist() == [0.2, 0.5, 0.9]
    assert idx.tolist() == [0, 0, 0, 0, 1]


# --- decision curves -------------------------------------------------------------------------
DCA = pd.read_csv(DATA / "dcurves_r_dca_result_1.csv")


def _df_binary() -> tuple[np.ndarray, pd.DataFrame]:
    db = pd.read_csv(DATA / "dcurves_df_binary.csv")
    return db["cancer"].astype(str).str.upper().eq("TRUE").astype(int).to_numpy(), db


def test_net_benefit_matches_dcurves():
    y, db = _df_binary()
    ref = DCA[DCA["variable"] == "cancerpredmarker"]
    nb = net_benefit(y, db["cancerpredmarker"], ref["threshold"].tolist())
    assert nb == pytest.approx(ref["net_benefit"].to_numpy(), abs=1e-14)
    assert len(ref) == 99


def test_several_models_and_treat_all_match_dcurves():
    import statsmodels.api as sm

    y, db = _df_binary()
    # dcurves' as_probability = "marker": risk = fitted logistic regression of cancer on marker
    fit = sm.GLM(y, sm.add_constant(db["marker"].to_numpy()), family=sm.families.Binomial()).fit()
    thresholds = DCA.loc[DCA["variable"] == "marker", "threshold"].tolist()
    dc = decision_curve(
        y,
        {"cancerpredmarker": db["cancerpredmarker"].to_numpy(), "marker": fit.fittedvalues},
        thresholds,
    )
    for name in ("cancerpredmarker", "marker"):
        ref = DCA[DCA["variable"] == name].set_index("threshold")["net_benefit"]
        got = pd.Series(dc["models"][name], index=thresholds)
        assert got.to_numpy() == pytest.approx(ref.reindex(thresholds).to_numpy(), abs=1e-14)
    all_ref = DCA[DCA["variable"] == "all"]
    dc_all = decision_curve(y, db["cancerpredmarker"], all_ref["threshold"].tolist())
    assert dc_all["treat_all"] == pytest.approx(all_ref["net_benefit"].to_numpy(), rel=1e-12)
    assert dc_all["treat_none"] == [0.0] * len(all_ref)
    assert dc["prevalence"] == pytest.approx(0.14)
    assert set(dc["models"]) == {"cancerpredmarker", "marker"}


def test_default_thresholds_are_001_to_099():
    y, db = _df_binary()
    dc = decision_curve(y, db["cancerpredmarker"])
    assert dc["thresholds"] == pytest.approx([k / 100 for k in range(1, 100)])
    assert list(dc["models"]) == ["model"]
    ref = DCA[DCA["variable"] == "cancerpredmarker"]
    assert dc["models"]["model"] == pytest.approx(ref["net_benefit"].to_numpy(), abs=1e-14)
    assert len(DEFAULT_THRESHOLDS) == 99


@pytest.mark.parametrize("thresholds", [[0.0, 0.5], [0.5, 1.0], []])
def test_thresholds_must_lie_inside_0_1(thresholds):
    with pytest.raises(ValueError, match="threshold"):
        decision_curve([0, 1], [0.2, 0.8], thresholds)
