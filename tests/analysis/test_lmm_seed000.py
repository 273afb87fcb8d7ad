"""Seed 000 Table 3 (NR-3): point estimates follow from the pooled counts alone."""

from fractions import Fraction

import numpy as np
import pytest

from readerstudy.analysis.lmm import fit_lmm, reader_lmm
from readerstudy.analysis.satterthwaite import hessian, jacobian
from readerstudy.analysis.simulate import seed000_reads, simulate_study
from readerstudy.analysis.summaries import pooled_counts
from readerstudy.analysis.tables import table3

# pooled counts (seeds-digest section 1.4 / NR-3)
UNAIDED = {
    "accuracy": Fraction(652, 918),
    "sensitivity": Fraction(190, 234),
    "specificity": Fraction(462, 684),
}
AIDED = {
    "accuracy": Fraction(721, 918),
    "sensitivity": Fraction(205, 234),
    "specificity": Fraction(516, 684),
}
MODEL = {
    "accuracy": Fraction(86, 102),
    "sensitivity": Fraction(25, 26),
    "specificity": Fraction(61, 76),
}
# Table 3 as printed (4 dp)
PRINTED = {
    "unaided": {"accuracy": 0.7102, "sensitivity": 0.8120, "specificity": 0.6754},
    "aided": {"accuracy": 0.7854, "sensitivity": 0.8761, "specificity": 0.7544},
    "model - unaided": {"accuracy": 0.1329, "sensitivity": 0.1496, "specificity": 0.1272},
    "aided - unaided": {"accuracy": 0.0752, "sensitivity": 0.0641, "specificity": 0.0789},
}


@pytest.fixture(scope="module", params=[0, 1, 2])
def seed_reads(request):
    """Different allocations of the same pooled counts across cases and readers."""
    return seed000_reads(seed=request.param)


def test_synthetic_reads_have_the_published_pooled_counts(seed_reads):
    from readerstudy.analysis.reads import validate_reads

    pc = pooled_counts(validate_reads(seed_reads)).set_index("condition")
    assert tuple(pc.loc["unaided", ["correct", "tp", "tn"]]) == (652, 190, 462)
    assert tuple(pc.loc["aided", ["correct", "tp", "tn"]]) == (721, 205, 516)
    assert tuple(pc.loc["model", ["correct", "tp", "tn"]]) == (86, 25, 61)


@pytest.mark.parametrize("mode", ["pairwise", "joint"])
def test_table3_point_estimates_are_exact(seed_reads, mode):
    lmm = reader_lmm(seed_reads, mode=mode)
    for ep in ("accuracy", "sensitivity", "specificity"):
        d = lmm.endpoints[ep]
        exact = {
            "aided - unaided": float(AIDED[ep] - UNAIDED[ep]),
            "model - unaided": float(MODEL[ep] - UNAIDED[ep]),
        }
        for name, value in exact.items():
            assert d["contrasts"][name].estimate == pytest.approx(value, abs=1e-10), (ep, name)
            assert round(d["contrasts"][name].estimate, 4) == PRINTED[name][ep]
        assert d["emmeans"]["unaided"].estimate == pytest.approx(float(UNAIDED[ep]), abs=1e-10)
        assert d["emmeans"]["aided"].estimate == pytest.approx(float(AIDED[ep]), abs=1e-10)
        assert d["emmeans"]["model"].estimate == pytest.approx(float(MODEL[ep]), abs=1e-10)
        assert round(d["emmeans"]["unaided"].estimate, 4) == PRINTED["unaided"][ep]
        assert round(d["emmeans"]["aided"].estimate, 4) == PRINTED["aided"][ep]


def test_table3_layout(seed_reads):
    tab = table3(reader_lmm(seed_reads))
    assert len(tab) == 6
    first = tab[tab["contrast"] == "model - unaided"].set_index("endpoint")
    assert first.loc["accuracy", "performance_display"].startswith("0.7102 [")
    assert first.loc["accuracy", "difference_display"].startswith("0.1329 [")
    second = tab[tab["contrast"] == "aided - unaided"].set_index("endpoint")
    assert second.loc["specificity", "performance_display"].startswith("0.7544 [")
    for _, row in tab.iterrows():
        assert row["perf_ci_low"] < row["performance"] < row["perf_ci_high"]
        assert row["diff_ci_low"] < row["difference"] < row["diff_ci_high"]


def test_balanced_design_contrast_df_is_within_case_df():
    """(1|case), every case read by all readers in both conditions: the condition contrast is
    a within-case comparison with N - K - 1 df (VanDyke: 1140 - 114 - 1 = 1025)."""
    reads, _ = simulate_study(6, 40, 12, seed=4)
    fit = fit_lmm(reads, "accuracy", random="case")
    n, k = len(reads), reads["case"].nunique()
    assert fit.variance_components["case"] > 0
    assert fit.contrasts["aided - unaided"].df == pytest.approx(n - k - 1, rel=1e-6)
    # and the EMM df lies between the number of cases and of reads
    assert k - 1 < fit.emmeans["unaided"].df < n


def test_richardson_derivatives():
    def f(x):
        return np.exp(x[0]) * np.sin(x[1]) + x[0] ** 2 * x[1]

    x = np.array([0.3, 1.1])
    h = hessian(f, x)
    exact = np.array(
        [
            [np.exp(x[0]) * np.sin(x[1]) + 2 * x[1], np.exp(x[0]) * np.cos(x[1]) + 2 * x[0]],
            [np.exp(x[0]) * np.cos(x[1]) + 2 * x[0], -np.exp(x[0]) * np.sin(x[1])],
        ]
    )
    np.testing.assert_allclose(h, exact, rtol=1e-8)
    j = jacobian(lambda v: np.array([v[0] * v[1], np.log(v[1])]), x)
    np.testing.assert_allclose(j, [[x[1], x[0]], [0, 1 / x[1]]], rtol=1e-9)
