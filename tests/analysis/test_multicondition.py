"""Three or more reading conditions and free condition names (issue #18): the command line with
the overall OR/DBM F test and every pairwise difference, LMM contrasts against the reference or
between every pair, and the ``--reference`` option."""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from readerstudy.analysis import ReportOptions, build_report
from readerstudy.analysis.simulate import simulate_endpoint_study

ROOT = Path(__file__).resolve().parents[2]
CONDITIONS = ("unaided", "aided", "second")


def three_conditions(names: tuple[str, ...] = CONDITIONS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A single-endpoint study (no ``endpoint`` column): 4 readers x 30 cases x 3 conditions."""
    reads, scores = simulate_endpoint_study(
        4, 30, conditions=names, binary=("any",), prevalence=0.4, seed=8
    )
    return reads.drop(columns="endpoint"), scores.drop(columns="endpoint")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "readerstudy.analysis", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def or_rrrc_by_hand(reads: pd.DataFrame) -> tuple[float, float, dict[str, float]]:
    """Obuchowski-Rockette RRRC with Hillis' ddf, from scikit-learn AUCs and a case jackknife
    written out here: F, ddf and the reader-averaged AUC per condition."""
    conds, readers = list(CONDITIONS), sorted(reads["reader"].unique())
    cases = sorted(reads["case"].unique())
    r = {
        (c, rd): g.set_index("case").loc[cases]
        for (c, rd), g in reads.groupby(["condition", "reader"])
    }
    truth = r[(conds[0], readers[0])]["truth"].to_numpy()
    rating = np.array([[r[(c, rd)]["rating"].to_numpy() for rd in readers] for c in conds])
    t, nr, n = rating.shape
    theta = np.array([[roc_auc_score(truth, rating[i, j]) for j in range(nr)] for i in range(t)])
    keep = ~np.eye(n, dtype=bool)
    jack = np.array(
        [
            [[roc_auc_score(truth[keep[k]], rating[i, j, keep[k]]) for k in range(n)] for j in range(nr)]
            for i in range(t)
        ]
    ).reshape(t * nr, n)  # fmt: skip
    dev = jack - jack.mean(axis=1, keepdims=True)
    cov = (n - 1) / n * dev @ dev.T
    mod, rdr = np.repeat(np.arange(t), nr), np.tile(np.arange(nr), t)
    same_m, same_r = mod[:, None] == mod[None, :], rdr[:, None] == rdr[None, :]
    cov2 = cov[same_m & ~same_r].mean()
    cov3 = cov[~same_m & ~same_r].mean()
    m_i, m_j, m = theta.mean(axis=1), theta.mean(axis=0), theta.mean()
    ms_t = nr * ((m_i - m) ** 2).sum() / (t - 1)
    ms_tr = ((theta - m_i[:, None] - m_j[None, :] + m) ** 2).sum() / ((t - 1) * (nr - 1))
    den = ms_tr + nr * max(cov2 - cov3, 0.0)
    return ms_t / den, den**2 / (ms_tr**2 / ((t - 1) * (nr - 1))), dict(zip(conds, m_i))


@pytest.fixture(scope="module")
def cli_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("three")
    reads, scores = three_conditions()
    reads.to_csv(out / "reads.csv", index=False)
    scores.to_csv(out / "scores.csv", index=False)
    res = run_cli(
        "report",
        "--reads",
        str(out / "reads.csv"),
        "--model-scores",
        str(out / "scores.csv"),
        "--contrasts",
        "pairwise",
        "--bootstrap",
        "50",
        "--out",
        str(out / "o"),
        "--format",
        "json,csv,md,html,png",
        "--quiet",
    )
    assert res.returncode == 0, res.stderr
    return reads, json.loads((out / "o" / "report.json").read_text()), out / "o"


def test_cli_overall_f_test_matches_a_hand_computation(cli_report):
    reads, d, _ = cli_report
    f, ddf, means = or_rrrc_by_hand(reads)
    auc = d["mrmc"]["auc"]
    assert auc["comparison"] == "overall" and auc["conditions"] == list(CONDITIONS)
    assert auc["or_rrrc"]["df1"] == 2
    assert auc["or_rrrc"]["F"] == pytest.approx(f, rel=1e-9)
    assert auc["or_rrrc"]["ddf"] == pytest.approx(ddf, rel=1e-9)
    pairs = {p["comparison"]: p["diff"] for p in auc["or_rrrc"]["pairwise"]}
    assert pairs == pytest.approx(
        {f"{b} - {a}": means[b] - means[a] for a, b in combinations(CONDITIONS, 2)}, abs=1e-12
    )
    for name in ("or_frrc", "or_rrfc", "dbm_rrrc", "dbm_frrc"):
        assert len(auc[name]["pairwise"]) == 3 and auc[name]["p"] is not None
    assert auc["dbm_rrrc"]["F"] == pytest.approx(f, rel=1e-6)  # DBM = OR with the jackknife
    comps = {r["comparison"] for r in auc["per_reader"]}
    assert comps == {"aided - unaided", "second - unaided", "second - aided"}


def test_cli_lmm_contrasts_between_every_pair(cli_report):
    reads, d, _ = cli_report
    con = d["lmm"]["accuracy"]["contrasts"]
    ordered = [*CONDITIONS, "model"]
    assert list(con) == [f"{b} - {a}" for a, b in combinations(ordered, 2)]
    p = reads.assign(correct=reads["truth"] == reads["decision"]).groupby("condition")["correct"]
    means = p.mean()
    assert con["second - aided"]["estimate"] == pytest.approx(
        means["second"] - means["aided"], abs=1e-9
    )
    assert set(d["lmm"]["accuracy"]["fits"]) == {f"{b}_vs_{a}" for a, b in combinations(ordered, 2)}
    sections = {row["contrast"] for row in d["table3"]}
    assert sections == set(con)


def test_cli_writes_every_format_with_three_conditions(cli_report):
    _, d, out = cli_report
    summary = pd.read_csv(out / "mrmc_summary.csv")
    assert {"unaided", "aided", "second"} <= set(summary.columns)
    rrrc = summary[(summary["fom"] == "auc") & (summary["analysis"] == "or_rrrc")]
    assert list(rrrc["comparison"]) == [
        "overall",
        "aided - unaided",
        "second - unaided",
        "second - aided",
    ]
    assert (out / "forest.png").exists() and "second" in (out / "report.md").read_text()
    assert d["meta"]["conditions"] == [*CONDITIONS, "model"] and d["meta"]["reference"] == "unaided"


def test_reference_is_required_without_unaided(tmp_path):
    reads, _ = three_conditions(("first", "second", "third"))
    reads.to_csv(tmp_path / "reads.csv", index=False)
    res = run_cli("report", "--reads", str(tmp_path / "reads.csv"), "--out", str(tmp_path / "o"))
    assert res.returncode == 2
    assert "--reference" in res.stderr and "first, second, third" in res.stderr
    res = run_cli(
        "report",
        "--reads",
        str(tmp_path / "reads.csv"),
        "--reference",
        "second",
        "--out",
        str(tmp_path / "o"),
        "--format",
        "json",
    )
    assert res.returncode == 0, res.stderr
    d = json.loads((tmp_path / "o" / "report.json").read_text())
    assert list(d["lmm"]["accuracy"]["contrasts"]) == ["first - second", "third - second"]
    assert d["mrmc"]["accuracy"]["conditions"] == ["second", "first", "third"]


def test_api_reference_and_two_named_conditions():
    reads, _ = three_conditions(("double", "single", "ai"))
    two = reads[reads["condition"] != "ai"]
    rep = build_report(two, None, ReportOptions(reference="single", n_bootstrap=20))
    d = rep.to_dict()
    assert d["mrmc"]["auc"]["comparison"] == "double - single"  # two conditions: as before
    assert "diff" in d["mrmc"]["auc"]["or_rrrc"]
    assert list(d["lmm"]["accuracy"]["contrasts"]) == ["double - single"]
    with pytest.raises(ValueError, match="reference condition 'model'|not 'model'"):
        build_report(two, None, ReportOptions(reference="model"))
