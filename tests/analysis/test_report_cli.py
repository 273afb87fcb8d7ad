"""End-to-end: build_report / Report.write and the command line."""

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest

from readerstudy.analysis import ReportOptions, build_report
from readerstudy.analysis.lmm import fit_lmm
from readerstudy.analysis.simulate import simulate_study

from .refdata import assert_printed, parse_iowa, vandyke_reads

ROOT = Path(__file__).resolve().parents[2]
CONTRAST_KEYS = {"estimate", "se", "df", "t", "p", "ci_low", "ci_high"}
EMM_KEYS = {"estimate", "se", "df", "ci_low", "ci_high"}


@pytest.fixture(scope="module")
def sim():
    return simulate_study(6, 60, 18, seed=2)


@pytest.fixture(scope="module")
def report(sim):
    reads, scores = sim
    return build_report(reads, scores, ReportOptions(n_bootstrap=200, seed=1))


@pytest.fixture(scope="module")
def written(report, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    return out, report.write(out)


def test_json_has_documented_keys(report):
    d = report.to_dict()
    for ep in ("accuracy", "sensitivity", "specificity"):
        con = d["lmm"][ep]["contrasts"]
        assert set(con["aided - unaided"]) >= CONTRAST_KEYS
        assert set(con["model - unaided"]) >= CONTRAST_KEYS
        for cond in ("unaided", "aided"):
            assert set(d["lmm"][ep]["emmeans"][cond]) >= EMM_KEYS
    rrrc = d["mrmc"]["auc"]["or_rrrc"]
    assert {"F", "ddf", "p", "diff", "ci_low", "ci_high"} <= set(rrrc)
    assert d["model_performance"]["auc"]["ci_low"] < d["model_performance"]["auc"]["estimate"]
    assert d["skipped"] == {}


def test_summary_is_small_and_consistent(report):
    summary = report.summary()
    json.dumps(summary, allow_nan=False)
    full = report.to_dict()
    assert summary["lmm"]["accuracy"]["aided - unaided"]["p"] == pytest.approx(
        full["lmm"]["accuracy"]["contrasts"]["aided - unaided"]["p"]
    )
    assert summary["mrmc_or_rrrc"]["auc"]["ddf"] == pytest.approx(
        full["mrmc"]["auc"]["or_rrrc"]["ddf"]
    )
    assert summary["n_readers"] == 6 and summary["skipped"] == []


def test_json_values_agree_with_the_api(report, sim):
    d = report.to_dict()
    reads = report.reads
    fit = fit_lmm(reads, "accuracy", ("unaided", "aided"))
    got = d["lmm"]["accuracy"]["contrasts"]["aided - unaided"]
    assert got["estimate"] == pytest.approx(fit.contrasts["aided - unaided"].estimate)
    assert got["df"] == pytest.approx(fit.contrasts["aided - unaided"].df)
    assert d["lmm"]["accuracy"]["emmeans"]["unaided"]["estimate"] == pytest.approx(
        fit.emmeans["unaided"].estimate
    )
    means = d["mrmc"]["auc"]["means"]
    assert d["mrmc"]["auc"]["or_rrrc"]["diff"] == pytest.approx(means["aided"] - means["unaided"])
    # model reads were derived from the scores at the high-sensitivity point
    op = report.performance.points["high_sensitivity"]
    model = reads[reads["condition"] == "model"].set_index("case")
    _, scores = sim
    expected = (scores.set_index("case")["score"] >= op.threshold).astype(int)
    assert (model["decision"] == expected.reindex(model.index)).all()
    assert op.metrics["specificity"] >= 0.8


def test_all_formats_written(written):
    out, paths = written
    names = {p.name for p in paths}
    for name in (
        "report.json",
        "table2.csv",
        "table3.csv",
        "per_reader.csv",
        "report.md",
        "report.html",
        "roc.png",
        "roc.svg",
        "forest.png",
        "forest.svg",
    ):
        assert name in names, name
    json.loads((out / "report.json").read_text())  # strict JSON (no NaN)
    assert (out / "roc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert ElementTree.parse(out / "forest.svg").getroot().tag.endswith("svg")
    html = (out / "report.html").read_text()
    assert "<table" in html and "data:image/png;base64," in html
    md = (out / "report.md").read_text()
    table3 = md.split("## Table 3")[1]
    assert "Readers without the model" in table3 and "Readers with the model" in table3


def test_svg_output_is_reproducible(report, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    report.write(a, ["svg"])
    report.write(b, ["svg"])
    assert (a / "roc.svg").read_bytes() == (b / "roc.svg").read_bytes()


def test_without_ratings_mrmc_auc_is_skipped_with_a_reason(sim):
    reads, _ = sim
    rep = build_report(reads.drop(columns="rating"))
    assert "mrmc.auc" in rep.skipped
    assert "sensitivity" in rep.mrmc and "auc" not in rep.mrmc
    assert "model - unaided" not in rep.to_dict()["lmm"]["accuracy"]["contrasts"]


def test_incomplete_design_skips_mrmc_but_fits_lmm(sim):
    reads, _ = sim
    rep = build_report(reads.iloc[5:])
    assert "fully crossed" in rep.skipped["mrmc.auc"]
    assert np.isfinite(rep.to_dict()["lmm"]["accuracy"]["contrasts"]["aided - unaided"]["p"])


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "readerstudy.analysis", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_report_on_vandyke(tmp_path):
    reads = tmp_path / "reads.csv"
    vandyke_reads(3).to_csv(reads, index=False)
    res = run_cli(
        "report", "--reads", str(reads), "--out", str(tmp_path / "out"), "--format", "json,csv"
    )
    assert res.returncode == 0, res.stderr
    d = json.loads((tmp_path / "out" / "report.json").read_text())
    ref = parse_iowa("VanDyke")["rrrc"]
    rrrc = d["mrmc"]["auc"]["or_rrrc"]
    assert_printed(rrrc["F"], ref["F"], "F")
    assert_printed(rrrc["ddf"], ref["ddf"], "ddf")
    assert_printed(rrrc["p"], ref["p"], "p")
    assert_printed(-rrrc["diff"], ref["diff"], "diff")
    assert_printed(-rrrc["ci_high"], ref["ci"][0], "ci")
    assert (tmp_path / "out" / "table3.csv").exists()
    assert not (tmp_path / "out" / "report.html").exists()


def test_cli_with_scores_and_threshold(sim, tmp_path):
    reads, scores = sim
    reads.to_csv(tmp_path / "reads.csv", index=False)
    scores.to_csv(tmp_path / "scores.csv", index=False)
    res = run_cli(
        "report",
        "--reads",
        str(tmp_path / "reads.csv"),
        "--model-scores",
        str(tmp_path / "scores.csv"),
        "--operating-point",
        "threshold:0.5",
        "--out",
        str(tmp_path / "o"),
        "--format",
        "json",
        "--bootstrap",
        "100",
        "--seed",
        "9",
    )
    assert res.returncode == 0, res.stderr
    d = json.loads((tmp_path / "o" / "report.json").read_text())
    point = d["model_performance"]["operating_points"]["threshold:0.5"]
    assert point["threshold"] == 0.5
    expected_tp = int(((scores["score"] >= 0.5) & (scores["truth"] == 1)).sum())
    assert point["confusion"]["tp"] == expected_tp
    assert d["meta"]["options"]["seed"] == 9


def test_cli_reports_input_errors(tmp_path):
    # any condition name is allowed (issue #18), an empty one is not
    bad = vandyke_reads(3).astype({"truth": object})
    bad.loc[7, "condition"] = ""
    bad.loc[9, "truth"] = "maybe"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    res = run_cli("report", "--reads", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "x"))
    assert res.returncode == 2
    assert "'condition' is empty in row 8" in res.stderr
    assert "'truth'" in res.stderr and "row 10" in res.stderr
    assert not (tmp_path / "x").exists()


def test_cli_power(tmp_path):
    vandyke_reads(3).to_csv(tmp_path / "pilot.csv", index=False)
    res = run_cli(
        "power",
        "--reads",
        str(tmp_path / "pilot.csv"),
        "--effect",
        "0.043800322",
        "--readers",
        "10",
        "--cases",
        "165",
    )
    assert res.returncode == 0, res.stderr
    power = float(
        next(ln for ln in res.stdout.splitlines() if ln.startswith("power:")).split(":")[1]
    )
    assert power == pytest.approx(0.805419947, abs=1e-8)


def test_package_imports_no_django():
    """readerstudy.analysis stays Django-free (checked in a fresh interpreter)."""
    code = (
        "import sys, readerstudy.analysis, readerstudy.analysis.cli, "
        "readerstudy.analysis.report, readerstudy.analysis.plots; "
        "print(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"


def test_extra_crossed_model_and_joint_mode(sim):
    reads, scores = sim
    rep = build_report(
        reads,
        scores,
        ReportOptions(n_bootstrap=50, lmm_mode="joint", extra_models=("crossed",)),
    )
    d = rep.to_dict()
    assert set(d["lmm"]["accuracy"]["contrasts"]) == {
        "aided - unaided",
        "model - unaided",
        "model - aided",
    }
    crossed = d["lmm_extra"]["crossed"]["accuracy"]
    assert set(crossed["contrasts"]) == {"aided - unaided"}
    fit = crossed["fits"]["joint"]
    assert set(fit["variance_components"]) == {
        "reader",
        "reader:condition",
        "case",
        "case:condition",
        "Residual",
    }
    # generalising to readers widens the interval of the same difference
    narrow = d["lmm"]["accuracy"]["contrasts"]["aided - unaided"]
    wide = crossed["contrasts"]["aided - unaided"]
    assert wide["estimate"] == pytest.approx(narrow["estimate"], abs=1e-9)
    assert wide["df"] < narrow["df"]


def _perfect():
    reads, scores = simulate_study(3, 12, 4, seed=0)
    reads["decision"] = reads["truth"]
    reads["rating"] = np.where(reads["truth"] == 1, 90, 10)
    return reads, scores


DEGENERATE = {
    "perfect readers": (_perfect, "lmm.accuracy.aided_vs_unaided", "no within-condition"),
    "one reader": (lambda: simulate_study(1, 20, 6, seed=0), "mrmc.auc", "2 readers"),
    "positives only": (
        lambda: (simulate_study(3, 10, 10, seed=0)[0], None),
        "lmm.specificity.aided_vs_unaided",
        "no reads",
    ),
}


@pytest.mark.parametrize("name", list(DEGENERATE))
def test_degenerate_studies_report_what_was_skipped(name, tmp_path):
    make, key, reason = DEGENERATE[name]
    reads, scores = make()
    rep = build_report(reads, scores, ReportOptions(n_bootstrap=50))
    assert reason in rep.skipped[key]
    rep.write(tmp_path, ["json", "md"])
    d = json.loads((tmp_path / "report.json").read_text())
    assert d["skipped"][key] == rep.skipped[key]
    assert "## Not computed" in (tmp_path / "report.md").read_text()
