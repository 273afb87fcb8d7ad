"""Vectorised bootstrap: exact against materialised resamples, statistically against DeLong."""

import numpy as np
import pandas as pd
import pytest

from readerstudy.analysis.bootstrap import (
    bootstrap_performance,
    chunked_counts,
    resample_counts,
    weighted_auc,
    weighted_confusion,
)
from readerstudy.analysis.delong import delong_ci
from readerstudy.analysis.metrics import Confusion
from readerstudy.analysis.performance import model_performance
from readerstudy.analysis.roc import empirical_auc

from .refdata import DATA


@pytest.fixture(scope="module")
def asah():
    d = pd.read_csv(DATA / "aSAH.csv")
    return (d["outcome"] == "Poor").astype(int).to_numpy(), d["s100b"].to_numpy()


def test_stratified_counts_keep_class_sizes():
    truth = np.r_[np.ones(7, int), np.zeros(13, int)]
    w = resample_counts(truth, 50, np.random.default_rng(0), stratified=True)
    assert w.shape == (50, 20)
    assert (w[:, truth == 1].sum(axis=1) == 7).all()
    assert (w[:, truth == 0].sum(axis=1) == 13).all()
    u = resample_counts(truth, 50, np.random.default_rng(0), stratified=False)
    assert (u.sum(axis=1) == 20).all()
    assert len(set(u[:, truth == 1].sum(axis=1))) > 1


def test_seeded_and_reproducible(asah):
    truth, score = asah
    a = np.concatenate(list(chunked_counts(truth, 300, seed=7)))
    b = np.concatenate(list(chunked_counts(truth, 300, seed=7)))
    c = np.concatenate(list(chunked_counts(truth, 300, seed=8)))
    assert a.shape == (300, truth.size)
    assert (a == b).all() and not (a == c).all()


def test_weighted_statistics_equal_materialised_resamples(asah):
    truth, score = asah
    w = resample_counts(truth, 25, np.random.default_rng(1), stratified=False)
    dec = (score >= 0.2).astype(int)
    aucs = weighted_auc(truth, score, w)
    conf = weighted_confusion(truth, dec, w)
    for b in range(w.shape[0]):
        idx = np.repeat(np.arange(truth.size), w[b])
        assert aucs[b] == pytest.approx(empirical_auc(truth[idx], score[idx]), abs=1e-12)
        c = Confusion.from_arrays(truth[idx], dec[idx])
        assert (conf["tp"][b], conf["fn"][b], conf["fp"][b], conf["tn"][b]) == (
            c.tp,
            c.fn,
            c.fp,
            c.tn,
        )


def test_bootstrap_auc_agrees_with_delong(asah):
    """Not R's digits: the bootstrap SD and CI should be close to DeLong's (statistics.md 3.8)."""
    truth, score = asah
    draws = np.concatenate(
        [weighted_auc(truth, score, w) for w in chunked_counts(truth, 4000, seed=11)]
    )
    dl = delong_ci(truth, score)
    assert draws.std(ddof=1) == pytest.approx(dl["se"], rel=0.08)
    res = bootstrap_performance(truth, score, {}, n_resamples=2000, seed=3)
    lo, hi = res["auc"]
    assert lo == pytest.approx(dl["ci_low"], abs=0.02)
    assert hi == pytest.approx(dl["ci_high"], abs=0.02)


def test_model_performance_cis_bracket_estimates(asah):
    truth, score = asah
    perf = model_performance(truth, score, ("high_sensitivity", "youden"), n_bootstrap=500, seed=5)
    lo, hi = perf.auc_ci_bootstrap
    assert lo < perf.auc < hi
    for name, op in perf.points.items():
        for metric, value in op.metrics.items():
            lo, hi = perf.point_cis[name][metric]
            assert lo <= value + 1e-12 and value - 1e-12 <= hi, (name, metric)
    again = model_performance(truth, score, ("high_sensitivity", "youden"), n_bootstrap=500, seed=5)
    assert again.point_cis == perf.point_cis
