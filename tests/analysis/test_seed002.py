"""Seed 002 (Ye et al. 2019) reader conventions (digest NR-4, NR-1 and section 3.4) and seed
004's weighted log-loss (NR-7), from the published figures.

The read table is built from the digest's confusion matrices (ICH: 194 positive / 105 negative
subjects; SAH and SDH on the 194 ICH-positive subjects), with the cases arranged so that the
overlaps quoted in the paper's text hold: the model (Sli-Lab) found 14 of JRT1's 16, 45 of JRT2's
50 and 21 of JRT3's 23 SAH true positives, 11 SAH cases that no JRT found, missed 1 that every
JRT found, and caught 17, 5 and 10 of the ICH-positive cases that JRT1, JRT2 and JRT3 missed
(10.7 on average)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from readerstudy.analysis import ReportOptions, build_report
from readerstudy.analysis.endpoint_report import reader_group
from readerstudy.analysis.log_loss import default_weights, weighted_log_loss
from readerstudy.analysis.render_endpoints import mean_sd_text, seed002_table

READERS = ("JRT1", "JRT2", "JRT3")
ICH_POS, ICH_NEG = 194, 105


def _calls(n: int, positive: set[int]) -> np.ndarray:
    out = np.zeros(n, dtype=int)
    out[list(positive)] = 1
    return out


def _ich() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """ICH: positives 0..193, negatives 194..298; FN and FP sets per reader."""
    n = ICH_POS + ICH_NEG
    truth = np.r_[np.ones(ICH_POS, int), np.zeros(ICH_NEG, int)]
    pos = set(range(ICH_POS))
    calls = {
        "model": _calls(n, (pos - {193}) | {194}),  # Sli-Lab: 1 FN, 1 FP
        "JRT1": _calls(n, pos - set(range(0, 17))),  # 17 FN
        "JRT2": _calls(n, (pos - set(range(27, 32)) - {193}) | {195, 196, 197}),  # 6 FN, 3 FP
        "JRT3": _calls(n, pos - set(range(17, 27))),  # 10 FN
    }
    return truth, calls


def _sah() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """SAH on the ICH-positive subjects: positives 0..85, negatives 86..193."""
    n = ICH_POS
    truth = np.r_[np.ones(86, int), np.zeros(108, int)]
    model_tp = set(range(59))
    calls = {
        "model": _calls(n, model_tp | set(range(86, 92))),  # TP 59, FP 6
        "JRT2": _calls(n, set(range(45)) | set(range(59, 64))),  # TP 50 (45 with the model)
        "JRT1": _calls(n, set(range(11)) | {45, 46, 47, 59, 64} | set(range(92, 96))),  # 16, FP 4
        "JRT3": _calls(n, set(range(21)) | {59, 65} | set(range(96, 101))),  # TP 23, FP 5
    }
    return truth, calls


def _sdh() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """SDH on the ICH-positive subjects: positives 0..35, negatives 36..193."""
    truth = np.r_[np.ones(36, int), np.zeros(158, int)]
    calls = {
        "model": _calls(194, set(range(31)) | set(range(36, 43))),  # 31 / 5 / 7 / 151
        "JRT1": _calls(194, set(range(19)) | set(range(36, 42))),  # 19 / 17 / 6 / 152
        "JRT2": _calls(194, set(range(27)) | {36, 37}),  # 27 / 9 / 2 / 156
        "JRT3": _calls(194, set(range(18))),  # 18 / 18 / 0 / 158
    }
    return truth, calls


def seed002_reads() -> pd.DataFrame:
    frames = []
    for endpoint, (truth, calls) in (("ich", _ich()), ("sah", _sah()), ("sdh", _sdh())):
        cases = [f"s{i:03d}" for i in range(len(truth))]
        for reader, dec in calls.items():
            frames.append(
                pd.DataFrame(
                    {
                        "endpoint": endpoint,
                        "reader": reader,
                        "case": cases,
                        "condition": "model" if reader == "model" else "unaided",
                        "truth": truth,
                        "decision": dec,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def report():
    return build_report(seed002_reads(), None, ReportOptions(n_bootstrap=50))


# Table 3 (reconstructed, digest section 3.3): Acc, Sens, Spec, F1, AUC at 2 dp
TABLE3 = {
    "ich": {
        "JRT1": "0.94 0.91 1.00 0.95 0.96",
        "JRT2": "0.97 0.97 0.97 0.98 0.97",
        "JRT3": "0.97 0.95 1.00 0.97 0.97",
        "model": "0.99 0.99 0.99 0.99",
    },
    "sah": {
        "JRT1": "0.62 0.19 0.96 0.30 0.57",
        "JRT2": "0.81 0.58 1.00 0.74 0.79",
        "JRT3": "0.65 0.27 0.95 0.40 0.61",
        "model": "0.83 0.69 0.94 0.78",
    },
    "sdh": {
        "JRT1": "0.88 0.53 0.96 0.62 0.75",
        "JRT2": "0.94 0.75 0.99 0.83 0.87",
        "JRT3": "0.91 0.50 1.00 0.67 0.75",
        "model": "0.94 0.86 0.96 0.84",
    },
}
COLUMNS = ("accuracy", "sensitivity", "specificity", "f1", "auc_binary")


@pytest.mark.parametrize("endpoint", list(TABLE3))
def test_reader_and_model_rows_reproduce_table3(report, endpoint):
    pr = report.endpoint_results[endpoint].per_reader.set_index("reader")
    for reader, published in TABLE3[endpoint].items():
        values = published.split()
        got = [f"{pr.loc[reader, c]:.2f}" for c in COLUMNS[:4]]
        assert got == values[:4], (endpoint, reader)  # from the counts: exact at 2 dp (NR-1)
        if len(values) < 5:
            continue
        auc = pr.loc[reader, "auc_binary"]
        assert auc == pytest.approx(
            (pr.loc[reader, "sensitivity"] + pr.loc[reader, "specificity"]) / 2, abs=1e-15
        )
        if (endpoint, reader) == ("sdh", "JRT1"):
            # [inconsistency] the paper's 0.75 is (0.53 + 0.96) / 2 of the rounded Se and Sp;
            # from the (unique) counts (19/36 + 152/158) / 2 = 0.7449
            assert f"{auc:.4f}" == "0.7449"
            continue
        assert f"{auc:.2f}" == values[4], (endpoint, reader)


def test_binary_auc_is_the_mean_of_sensitivity_and_specificity(report):
    pr = report.endpoint_results["sah"].per_reader.set_index("reader")
    # SAH JRT1: TP 16/86, TN 104/108 -> (0.186 + 0.963) / 2 = 0.5745 -> 0.57 (NR-4)
    assert pr.loc["JRT1", "auc_binary"] == pytest.approx((16 / 86 + 104 / 108) / 2, abs=1e-12)
    # IVH SR (P = 68 of 194): sensitivity 1.00, specificity 118/126 = 0.94 -> 0.97
    ivh = pd.DataFrame(
        {
            "endpoint": "ivh",
            "reader": "SR",
            "case": [f"s{i}" for i in range(194)],
            "condition": "unaided",
            "truth": np.r_[np.ones(68, int), np.zeros(126, int)],
            "decision": np.r_[np.ones(68, int), np.ones(8, int), np.zeros(118, int)],
        }
    )
    sr = build_report(ivh, None, ReportOptions(n_bootstrap=10)).endpoint_results["ivh"]
    row = sr.per_reader.iloc[0]
    assert f"{row['sensitivity']:.2f}" == "1.00" and f"{row['specificity']:.2f}" == "0.94"
    assert f"{row['auc_binary']:.2f}" == "0.97"


# JRT mean ± s of Table 3, from the published per-reader (2-dp) figures (NR-4): the paper
# averaged the rounded values (SAH sensitivity 0.19, 0.58, 0.27 -> 0.347 ± 0.206)
MEAN_SD = {
    "ich": {
        "accuracy": ("0.94 0.97 0.97", "0.96 ± 0.02"),
        "sensitivity": ("0.91 0.97 0.95", "0.94 ± 0.03"),
        "specificity": ("1.00 0.97 1.00", "0.99 ± 0.02"),
        "auc_binary": ("0.96 0.97 0.97", "0.97 ± 0.01"),
        # F1 left out: published 0.96 ± 0.02, computed 0.967 (the digest's rounding anomaly)
    },
    "sah": {
        "accuracy": ("0.62 0.81 0.65", "0.69 ± 0.10"),
        "sensitivity": ("0.19 0.58 0.27", "0.35 ± 0.21"),
        "specificity": ("0.96 1.00 0.95", "0.97 ± 0.03"),
        "f1": ("0.30 0.74 0.40", "0.48 ± 0.23"),
        "auc_binary": ("0.57 0.79 0.61", "0.66 ± 0.12"),
    },
    "sdh": {
        "accuracy": ("0.88 0.94 0.91", "0.91 ± 0.03"),
        "sensitivity": ("0.53 0.75 0.50", "0.59 ± 0.14"),
        "specificity": ("0.96 0.99 1.00", "0.98 ± 0.02"),
        "f1": ("0.62 0.83 0.67", "0.71 ± 0.11"),
        "auc_binary": ("0.75 0.87 0.75", "0.79 ± 0.07"),
    },
    "edh": {"sensitivity": ("0.54 0.77 0.85", "0.72 ± 0.16")},
}


@pytest.mark.parametrize("endpoint", list(MEAN_SD))
def test_group_mean_and_sd_of_the_published_figures(endpoint):
    metrics = MEAN_SD[endpoint]
    per_reader = pd.DataFrame(
        {
            "condition": "JRT",
            "reader": list(READERS),
            **{m: [float(v) for v in values.split()] for m, (values, _) in metrics.items()},
        }
    )
    group = reader_group(per_reader, ["JRT"], tuple(metrics))["JRT"]
    for m, (_, published) in metrics.items():
        mean, sd = (float(x) for x in published.split(" ± "))
        assert round(group[m]["mean"], 2) == mean and round(group[m]["sd"], 2) == sd, m
        assert mean_sd_text(per_reader[m]) == published
    if endpoint == "sah":  # the population SD would say 0.17 (NR-4)
        assert round(np.std([0.19, 0.58, 0.27]), 2) == 0.17 != round(group["sensitivity"]["sd"], 2)


def test_seed002_table_layout(report):
    table = seed002_table(report.endpoint_results["sah"])
    labels = list(table[""])
    assert labels == ["Model", "JRT1 (unaided)", "JRT2 (unaided)", "JRT3 (unaided)",
                      "Readers unaided, mean ± SD (n = 3)"]  # fmt: skip
    assert list(table.columns) == ["", "Accuracy", "Sensitivity", "Specificity", "F1", "AUC"]
    # from the exact counts: sensitivity 16/86, 50/86, 23/86
    assert table.iloc[-1]["Sensitivity"] == mean_sd_text(pd.Series([16 / 86, 50 / 86, 23 / 86]))


def test_discordance_reproduces_the_papers_counts(report):
    sah = report.endpoint_results["sah"].discordance["unaided"]
    assert sah["model_right_all_readers_wrong"]["n_positive"] == 11  # "found 11 SAH cases"
    assert sah["all_readers_right_model_wrong"]["n_positive"] == 1  # "only 1 SAH case"
    rows = {r["reader"]: r for r in sah["per_reader"]}
    overlap = {k: (rows[k]["both_tp"], rows[k]["reader_tp"]) for k in READERS}
    assert overlap == {"JRT1": (14, 16), "JRT2": (45, 50), "JRT3": (21, 23)}
    assert all(r["model_tp"] == 59 for r in rows.values())
    ich = report.endpoint_results["ich"].discordance["unaided"]
    missed = {r["reader"]: r["model_tp_reader_fn"] for r in ich["per_reader"]}
    assert missed == {"JRT1": 17, "JRT2": 5, "JRT3": 10}  # "17, 10, and 5"
    assert round(ich["mean_model_tp_reader_fn"], 1) == 10.7


# --- NR-7 ------------------------------------------------------------------------------------
def test_weighted_log_loss_worked_example():
    y = [[1, 0, 1, 0, 0, 0]]  # any, EDH, IPH, IVH, SAH, SDH
    p = [[0.9, 0.1, 0.8, 0.2, 0.1, 0.1]]
    w = list(default_weights(["any", "edh", "iph", "ivh", "sah", "sdh"]).values())
    assert w == [2, 1, 1, 1, 1, 1]
    out = weighted_log_loss(y, p, w)
    assert round(out["seed_form"], 6) == 0.162182
    assert round(out["rsna_form"], 6) == 0.139013


def test_weighted_log_loss_forms_differ_only_in_the_weighting():
    rng = np.random.default_rng(5)
    y = (rng.random((40, 6)) < 0.3).astype(int)
    p = np.clip(rng.random((40, 6)), 0.01, 0.99)
    ones = weighted_log_loss(y, p, np.ones(6))
    # with equal weights both are the plain mean binary log-loss
    mean_ll = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert ones["seed_form"] == pytest.approx(mean_ll, rel=1e-12)
    assert ones["rsna_form"] == pytest.approx(mean_ll, rel=1e-12)
