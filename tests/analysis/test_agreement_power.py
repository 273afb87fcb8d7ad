"""Kappas, Dice and OR power / sample size."""

import numpy as np
import pandas as pd
import pytest

from readerstudy.analysis.agreement import (
    cohen_kappa,
    dice,
    dice_summary,
    fleiss_kappa,
    reader_agreement,
)
from readerstudy.analysis.fom import fom_from_arrays
from readerstudy.analysis.mrmc_or import or_analysis
from readerstudy.analysis.power import OrVarianceComponents, or_power, or_sample_size

from .refdata import mrmc_dataset


def test_cohen_kappa_textbook_example():
    # 50 subjects: both yes 20, A yes / B no 5, A no / B yes 10, both no 15 -> kappa = 0.4
    a = ["y"] * 20 + ["y"] * 5 + ["n"] * 10 + ["n"] * 15
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4, abs=1e-12)
    assert cohen_kappa(a, a) == pytest.approx(1.0)


def test_weighted_kappa_penalises_distance():
    a = np.array([1, 2, 3, 4, 5, 1, 2, 3, 4, 5])
    near = np.array([2, 2, 3, 4, 5, 1, 2, 3, 4, 4])
    far = np.array([5, 2, 3, 4, 5, 1, 2, 3, 4, 1])
    for w in ("linear", "quadratic"):
        assert cohen_kappa(a, near, w, categories=range(1, 6)) > cohen_kappa(
            a, far, w, categories=range(1, 6)
        )
    # unweighted kappa cannot tell the two apart (same number of disagreements)
    assert cohen_kappa(a, near) == pytest.approx(cohen_kappa(a, far))


def test_fleiss_kappa_worked_example():
    # Fleiss (1971)-style worked example: 10 subjects, 14 raters, 5 categories -> 0.210
    counts = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    assert round(fleiss_kappa(counts), 3) == 0.210


def test_fleiss_equals_cohen_like_agreement_for_perfect_raters():
    reads = pd.DataFrame(
        {
            "reader": np.repeat(["a", "b", "c"], 4),
            "case": list("wxyz") * 3,
            "condition": "unaided",
            "decision": [1, 0, 1, 0] * 3,
        }
    )
    res = reader_agreement(reads, "unaided")
    assert res["fleiss_kappa"] == pytest.approx(1.0)
    assert res["mean_cohen_kappa"] == pytest.approx(1.0)
    assert res["percent_agreement"] == 1.0


def test_vectorised_pairwise_kappa_equals_pairwise_loop():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 40)
    rows = []
    for r in range(5):
        labels = np.where(rng.random(40) < 0.7, truth, rng.integers(0, 3, 40))
        rows += [
            {"reader": f"r{r}", "case": k, "condition": "aided", "decision": int(v)}
            for k, v in enumerate(labels)
        ]
    reads = pd.DataFrame(rows)
    wide = reads.pivot(index="case", columns="reader", values="decision")
    pairs = [(a, b) for i, a in enumerate(wide.columns) for b in wide.columns[i + 1 :]]
    loop = [
        cohen_kappa(wide[a].to_numpy(), wide[b].to_numpy(), categories=[0, 1, 2]) for a, b in pairs
    ]
    res = reader_agreement(reads, "aided")
    assert res["mean_cohen_kappa"] == pytest.approx(np.mean(loop), abs=1e-12)
    assert res["percent_agreement"] == pytest.approx(
        np.mean([np.mean(wide[a] == wide[b]) for a, b in pairs]), abs=1e-12
    )


def test_dice():
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    a[:2] = True  # 8 pixels
    b[1:3] = True  # 8 pixels, 4 shared
    assert dice(a, b) == pytest.approx(0.5)
    assert dice(np.zeros(3), np.zeros(3)) == 1.0
    s = dice_summary([0.8, 0.9, 0.85, 0.75])
    assert s["mean"] == pytest.approx(0.825)
    assert s["sd"] == pytest.approx(np.std([0.8, 0.9, 0.85, 0.75], ddof=1))
    assert s["ci_low"] < s["mean"] < s["ci_high"]


@pytest.fixture(scope="module")
def vandyke_vc():
    ratings, truth, mods, readers, _ = mrmc_dataset("VanDyke")
    res = or_analysis(fom_from_arrays("auc", truth, ratings, mods, readers))
    return OrVarianceComponents.from_analysis(res, n_cases_pilot=truth.size)


def test_power_matches_rjafroc(vandyke_vc):
    # RJafroc SsPowerGivenJK(dataset02, FOM = "Wilcoxon", method = "OR", J = 10, K = 165,
    # effectSize = -0.043800322): power 0.805419947, ncp 8.209597033, df2 62.70727971,
    # F_crit 3.994094656 (goodValues361/SsPower/dataset02-RRRC.rds)
    res = or_power(vandyke_vc, -0.043800322, n_readers=10, n_cases=165)
    assert res.power == pytest.approx(0.805419947, abs=1e-8)
    assert res.ncp == pytest.approx(8.209597033, abs=1e-8)
    assert res.ddf == pytest.approx(62.70727971, abs=1e-7)
    assert res.critical_value == pytest.approx(3.994094656, abs=1e-8)


def test_sample_size_is_the_smallest_sufficient(vandyke_vc):
    res = or_sample_size(vandyke_vc, 0.05, n_readers=8, target_power=0.8)
    assert res.power >= 0.8
    assert or_power(vandyke_vc, 0.05, 8, res.n_cases - 1).power < 0.8
    more_readers = or_sample_size(vandyke_vc, 0.05, n_readers=12, target_power=0.8)
    assert more_readers.n_cases < res.n_cases


def test_fixed_readers_need_fewer_cases(vandyke_vc):
    rrrc = or_power(vandyke_vc, 0.04, 6, 200, "RRRC").power
    frrc = or_power(vandyke_vc, 0.04, 6, 200, "FRRC").power
    assert frrc > rrrc
    with pytest.raises(ValueError):
        or_power(vandyke_vc, 0.04, 6, 200, "XYZ")
