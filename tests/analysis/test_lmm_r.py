"""The statsmodels (Python) path against R lme4/lmerTest/emmeans through rpy2.

Marked ``r``; skipped only when rpy2/R cannot be imported at all (if rpy2 imports but
lme4/lmerTest/emmeans are missing, the tests fail).
"""

import numpy as np
import pandas as pd
import pytest

from readerstudy.analysis.lmm import fit_lmm, reader_lmm
from readerstudy.analysis.reads import model_reads_from_scores, validate_reads
from readerstudy.analysis.simulate import seed000_reads, simulate_study

from .refdata import parse_lmertest, vandyke_reads


def _r_importable() -> bool:
    """Whether rpy2 imports (through the backend, which keeps the environment clean)."""
    from readerstudy.analysis.lmm_r import r_available

    ok, why = r_available()
    return ok or not why.startswith("rpy2 not importable")


pytestmark = [
    pytest.mark.r,
    pytest.mark.skipif(not _r_importable(), reason="rpy2 / R not importable"),
]


def study(seed: int, case_sd: float, drop: float = 0.0, n_readers=9, n_cases=102):
    reads, scores = simulate_study(n_readers, n_cases, n_cases // 4, seed=seed, case_sd=case_sd)
    reads = validate_reads(reads)
    model = model_reads_from_scores(scores, 0.5)
    reads = pd.concat([reads, model], ignore_index=True)
    if drop:
        reads = reads.sample(frac=1 - drop, random_state=seed).reset_index(drop=True)
    return reads


STUDIES = {
    "balanced": lambda: study(0, 0.8),
    "unbalanced (10% of reads missing)": lambda: study(1, 0.6, drop=0.1),
    "strong case effect": lambda: study(3, 1.5),
    "no case effect (boundary)": lambda: study(2, 0.0),
    "small (3 readers x 24 cases)": lambda: study(5, 0.8, n_readers=3, n_cases=24),
    "seed 000 counts": lambda: seed000_reads(1),
}


def compare(a, b, se_abs=1e-6, df_rel=1e-4, p_abs=1e-4):
    for ep in a.endpoints:
        for kind in ("contrasts", "emmeans"):
            assert set(a.endpoints[ep][kind]) == set(b.endpoints[ep][kind])
            for name, x in a.endpoints[ep][kind].items():
                y = b.endpoints[ep][kind][name]
                what = (ep, kind, name)
                assert x.estimate == pytest.approx(y.estimate, abs=1e-6), what
                assert x.se == pytest.approx(y.se, abs=se_abs), what
                assert x.df == pytest.approx(y.df, rel=df_rel), what
                assert x.p == pytest.approx(y.p, abs=p_abs), what
                assert x.ci_low == pytest.approx(y.ci_low, abs=10 * se_abs), what
                assert x.ci_high == pytest.approx(y.ci_high, abs=10 * se_abs), what
        for key, fa in a.endpoints[ep]["fits"].items():
            fb = b.endpoints[ep]["fits"][key]
            assert fa.n_obs == fb.n_obs
            for term, v in fb.variance_components.items():
                assert fa.variance_components[term] == pytest.approx(v, rel=1e-3, abs=1e-7), (
                    ep,
                    key,
                    term,
                )


@pytest.mark.parametrize("mode", ["pairwise", "joint"])
@pytest.mark.parametrize("name", list(STUDIES))
def test_case_intercept_model_python_equals_r(name, mode):
    reads = STUDIES[name]()
    py = reader_lmm(reads, mode=mode, random="case", backend="statsmodels")
    r = reader_lmm(reads, mode=mode, random="case", backend="r")
    compare(py, r)


def test_r_backend_reproduces_shipped_lmertest_output():
    ref = parse_lmertest()["accuracy (1|case)"]
    fit = fit_lmm(vandyke_reads(3), "accuracy", backend="r")
    c = fit.contrasts["aided - unaided"]
    assert (-c.estimate, c.se, c.df, c.p) == pytest.approx(
        (
            ref["contrast"]["estimate"],
            ref["contrast"]["se"],
            ref["contrast"]["df"],
            ref["contrast"]["p"],
        ),
        rel=1e-8,
    )
    assert fit.emmeans["unaided"].df == pytest.approx(ref["emm"]["1"]["df"], rel=1e-8)


def test_more_than_3000_reads_keep_satterthwaite_df():
    """emmeans falls back to asymptotic df above 3,000 observations unless lmerTest.limit is
    raised; the R backend raises it, so the df stay finite and equal Python's."""
    reads = study(7, 0.8, n_readers=20, n_cases=100)
    assert (reads["condition"] != "model").sum() > 3000
    py = fit_lmm(reads, "accuracy", backend="statsmodels")
    r = fit_lmm(reads, "accuracy", backend="r")
    assert np.isfinite(r.emmeans["unaided"].df)
    assert r.emmeans["unaided"].df == pytest.approx(py.emmeans["unaided"].df, rel=1e-4)


@pytest.mark.parametrize("random", ["reader_case", "crossed"])
def test_crossed_models_python_close_to_r(random):
    """Several variance components: lme4's bobyqa stops within ~1e-5 (relative) of the optimum
    (see test_lmm_reference.py), so these are compared more loosely."""
    reads = study(0, 0.8)
    py = reader_lmm(reads, random=random, backend="statsmodels")
    r = reader_lmm(reads, random=random, backend="r")
    assert set(py.endpoints["accuracy"]["contrasts"]) == {"aided - unaided"}
    compare(py, r, se_abs=1e-5, df_rel=2e-3, p_abs=1e-3)


def test_logistic_glmm_runs_in_r():
    reads = study(0, 0.8)
    res = reader_lmm(reads, random="case", backend="r", family="binomial")
    for ep in ("accuracy", "sensitivity", "specificity"):
        d = res.endpoints[ep]
        fit = d["fits"]["aided_vs_unaided"]
        assert fit.family == "binomial" and fit.converged
        raw = reads[reads["condition"].isin(["unaided", "aided"])]
        if ep != "accuracy":
            raw = raw[raw["truth"] == (1 if ep == "sensitivity" else 0)]
        means = raw.groupby("condition")["correct"].mean()
        lmm = reader_lmm(reads, random="case").endpoints[ep]["contrasts"]["aided - unaided"]
        odds = d["contrasts"]["aided / unaided"]
        # odds ratio on the same side of 1 as the difference in proportions when that is clear
        if abs(lmm.estimate) > 2 * lmm.se:
            assert (odds.estimate > 1) == (lmm.estimate > 0)
        assert odds.ci_low < odds.estimate < odds.ci_high
        # conditional (case-specific) probabilities are pulled away from 0.5 vs the raw means
        for cond in ("unaided", "aided"):
            prob = d["emmeans"][cond].estimate
            assert 0 < prob < 1
            assert abs(prob - 0.5) >= abs(means[cond] - 0.5) - 0.02
