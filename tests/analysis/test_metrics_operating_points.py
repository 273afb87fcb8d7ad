"""Seed anchors NR-1 (confusion matrix -> metrics) and NR-2 (operating-point rules)."""

import numpy as np
import pandas as pd
import pytest

from readerstudy.analysis.metrics import Confusion, confusion_metrics
from readerstudy.analysis.operating_points import parse_rule, select_operating_point

from .refdata import DATA

# seeds-digest NR-1: TP FN FP TN -> Acc Sens Spec PPV NPV F1 MCC (4 dp, published tables)
NR1 = [
    (
        "000 int 1mm high-sens",
        25,
        1,
        15,
        61,
        0.8431,
        0.9615,
        0.8026,
        0.6250,
        0.9839,
        0.7576,
        0.6821,
    ),
    ("000 int 1mm high-spec", 21, 5, 5, 71, 0.9020, 0.8077, 0.9342, 0.8077, 0.9342, 0.8077, 0.7419),
    (
        "000 ext 1mm high-sens",
        33,
        5,
        21,
        98,
        0.8344,
        0.8684,
        0.8235,
        0.6111,
        0.9515,
        0.7174,
        0.6239,
    ),
    (
        "000 ext 1mm high-spec",
        31,
        7,
        21,
        98,
        0.8217,
        0.8158,
        0.8235,
        0.5962,
        0.9333,
        0.6889,
        0.5818,
    ),
    (
        "000 int 5mm high-sens",
        22,
        4,
        15,
        61,
        0.8137,
        0.8462,
        0.8026,
        0.5946,
        0.9385,
        0.6984,
        0.5881,
    ),
    ("000 int 5mm high-spec", 21, 5, 6, 70, 0.8922, 0.8077, 0.9211, 0.7778, 0.9333, 0.7925, 0.7199),
    ("000 ext 5mm", 31, 7, 23, 96, 0.8089, 0.8158, 0.8067, 0.5741, 0.9320, 0.6739, 0.5613),
    ("001 DLRN", 19, 5, 3, 56, 0.9036, 0.7917, 0.9492, 0.8636, 0.9180, 0.8261, 0.7610),
    ("002 ICH JRT1", 177, 17, 0, 105, 0.9431, 0.9124, 1.0, 1.0, 0.8607, 0.9542, 0.8861),
    ("002 SAH Sub-Lab", 56, 30, 19, 89, 0.7474, 0.6512, 0.8241, 0.7467, 0.7479, 0.6957, 0.4848),
    ("002 SDH JRT3", 18, 18, 0, 158, 0.9072, 0.5000, 1.0, 1.0, 0.8977, 0.6667, 0.6700),
]


@pytest.mark.parametrize("row", NR1, ids=[r[0] for r in NR1])
def test_seed_confusion_matrices(row):
    _, tp, fn, fp, tn, *expected = row
    got = Confusion(tp, fn, fp, tn).metrics()
    names = ["accuracy", "sensitivity", "specificity", "ppv", "npv", "f1", "mcc"]
    assert [round(got[k], 4) for k in names] == pytest.approx(expected, abs=1e-9)


def test_metrics_vectorised_and_undefined():
    m = confusion_metrics(np.array([5, 0]), np.array([0, 0]), np.array([0, 0]), np.array([5, 10]))
    assert m["sensitivity"][0] == 1.0 and np.isnan(m["sensitivity"][1])
    assert np.isnan(m["ppv"][1]) and np.isnan(m["mcc"][1])
    assert m["specificity"][1] == 1.0


def scores_from_sequence(seq):
    """Descending-score label sequence like [('P', 17), ('N', 5), ...] -> (truth, score);
    each run gets one distinct score, so every run end is an ROC vertex."""
    truth, score = [], []
    value = 1.0
    for label, n in seq:
        truth += [1 if label == "P" else 0] * n
        score += [value] * n
        value -= 0.001
    return np.array(truth), np.array(score)


def test_nr2_internal_set():
    # 26 positives / 76 negatives: spec >= 0.8 needs TN >= 61 (FP <= 15); sens >= 0.8 TP >= 21
    truth, score = scores_from_sequence(
        [("P", 17), ("N", 5), ("P", 4), ("N", 10), ("P", 4), ("N", 1), ("P", 1), ("N", 60)]
    )
    assert truth.sum() == 26 and (1 - truth).sum() == 76
    hs = select_operating_point(truth, score, "high_sensitivity").confusion
    sp = select_operating_point(truth, score, "high_specificity").confusion
    assert (hs.tp, hs.fp) == (25, 15)
    assert (sp.tp, sp.fp) == (21, 5)


def test_nr2_external_set_both_points_at_fp21():
    # 38 / 119: spec >= 0.8 needs FP <= 23; the seed reports TP 33 (high-sens) and TP 31
    # (high-spec) both at FP = 21: vertices (31, 21) and (33, 21) tie on specificity and the
    # tie goes to the higher threshold
    truth, score = scores_from_sequence(
        [("P", 25), ("N", 21), ("P", 6), ("P", 2), ("N", 5), ("P", 5), ("N", 93)]
    )
    assert truth.sum() == 38 and (1 - truth).sum() == 119
    hs = select_operating_point(truth, score, "high_sensitivity").confusion
    sp = select_operating_point(truth, score, "high_specificity").confusion
    assert (hs.tp, hs.fp) == (33, 21)
    assert (sp.tp, sp.fp) == (31, 21)


def test_operating_point_threshold_reproduces_confusion():
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 2, 300)
    score = rng.normal(truth * 1.2, 1)
    for rule in ("high_sensitivity", "high_specificity:0.9", "youden"):
        op = select_operating_point(truth, score, rule)
        assert Confusion.from_arrays(truth, op.decisions(score)) == op.confusion
        m = op.metrics
        if rule == "high_sensitivity":
            assert m["specificity"] >= 0.8
        if rule.startswith("high_specificity"):
            assert m["sensitivity"] >= 0.9


def test_youden_on_asah_matches_proc():
    d = pd.read_csv(DATA / "aSAH.csv")
    truth = (d["outcome"] == "Poor").astype(int)
    op = select_operating_point(truth, d["s100b"], "youden")
    # coords(roc(aSAH$outcome, aSAH$s100b), "best"): threshold 0.205, sp 0.8056, se 0.6341
    assert op.threshold == pytest.approx(0.205, abs=1e-12)
    assert op.metrics["specificity"] == pytest.approx(0.8055555556, abs=1e-10)
    assert op.metrics["sensitivity"] == pytest.approx(0.6341463415, abs=1e-10)


def test_fixed_threshold_is_inclusive():
    op = select_operating_point([0, 1, 1, 0], [0.2, 0.5, 0.9, 0.5], "threshold:0.5")
    assert (op.confusion.tp, op.confusion.fp) == (2, 1)


@pytest.mark.parametrize(
    "bad", ["best", "threshold", "high_sensitivity:1.5", "youden:0.3", "threshold:abc"]
)
def test_bad_rules_rejected(bad):
    with pytest.raises(ValueError):
        parse_rule(bad)
