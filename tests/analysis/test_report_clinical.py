"""Table 1 (``baseline``) from --clinical / --group-by, and the calibration and decision-curve
figures embedded in the HTML report."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from readerstudy.analysis.baseline import baseline_table
from readerstudy.analysis.cli import main
from readerstudy.analysis.report import ReportOptions, build_report
from readerstudy.analysis.report_baseline import baseline_section
from readerstudy.analysis.simulate import simulate_study

FAST = ReportOptions(n_bootstrap=20, table2_points=("youden",), operating_point="youden")


@pytest.fixture(scope="module")
def study():
    reads, scores = simulate_study(n_readers=3, n_cases=60, seed=4)
    truth = scores.set_index("case")["truth"]
    rng = np.random.default_rng(7)
    n = len(truth)
    positive = truth.to_numpy() == 1
    clinical = pd.DataFrame(
        {
            "case": truth.index,
            # normal in both groups, older negatives: a t-test
            "age": np.round(np.where(positive, 40, 62) + rng.normal(0, 8, n), 1),
            # right-skewed: Mann-Whitney U
            "onset_to_imaging_h": np.round(rng.lognormal(1.5, 1.0, n), 2),
            # seed 001's one significant covariate: seizures mostly in CVT
            "seizure_at_admission": np.where(positive, rng.random(n) < 0.8, rng.random(n) < 0.1)
            .astype(int)
            .astype(str),
            "sex": np.where(rng.random(n) < 0.5, "F", "M"),
        }
    )
    clinical.loc[3, "age"] = np.nan  # a missing value is left out and counted
    return reads, scores, clinical.astype(str).replace("nan", np.nan)


def test_baseline_by_truth_names_each_test(study):
    reads, _, clinical = study
    section = baseline_section(clinical, reads)
    assert section["groups"] == ["positive", "negative"]
    assert section["n"] == {"positive": 15, "negative": 45}
    rows = {r["variable"]: r for r in section["rows"]}
    assert set(rows) == {"age", "onset_to_imaging_h", "seizure_at_admission", "sex"}
    assert rows["age"]["test"] == "Student t-test"
    assert rows["onset_to_imaging_h"]["test"] == "Mann-Whitney U"
    assert rows["seizure_at_admission"]["test"] in ("Pearson chi-square", "Fisher exact")
    # 80% against 10%: p far below 0.001 with 15 and 45 cases; a 22-year age gap as well
    assert rows["seizure_at_admission"]["p"] < 1e-3 and rows["age"]["p"] < 1e-3
    assert sum(rows["age"]["missing"].values()) == 1
    # the same numbers as baseline_table on the joined frame
    frame = clinical.set_index("case").join(
        reads.drop_duplicates("case").set_index("case")["truth"].map({1: "positive", 0: "negative"})
    )
    frame = pd.concat([frame[frame["truth"] == g] for g in ("positive", "negative")])
    ref = baseline_table(frame, "truth", variables=list(rows))
    assert [r["p"] for r in ref] == [r["p"] for r in section["rows"]]


def test_baseline_by_a_variable_and_its_errors(study):
    reads, _, clinical = study
    section = baseline_section(clinical, reads, "sex")
    assert section["groups"] == ["F", "M"] and "sex" not in {r["variable"] for r in section["rows"]}
    with pytest.raises(ValueError, match="not 'truth' nor a clinical column"):
        baseline_section(clinical, reads, "weight")
    with pytest.raises(ValueError, match="needs a 'case'"):
        baseline_section(clinical.rename(columns={"case": "id"}), reads)
    with pytest.raises(ValueError, match="given twice: c00001"):
        baseline_section(pd.concat([clinical, clinical.iloc[:1]]), reads)
    with pytest.raises(ValueError, match="none of its cases"):
        baseline_section(clinical.assign(case="x" + clinical["case"]), reads)


def test_report_json_and_html_have_table1_and_the_figures(study, tmp_path):
    reads, scores, clinical = study
    rad = scores.assign(score=(scores["score"] * 0.6 + 0.2).round(6), model="Rad")
    two = pd.concat([scores.assign(model="DLRN"), rad], ignore_index=True)
    paths = {}
    for name, frame in (("reads", reads), ("scores", two), ("clinical", clinical.iloc[:-2])):
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    out = tmp_path / "out"
    rc = main(
        ["report", "--reads", str(paths["reads"]), "--model-scores", str(paths["scores"])]
        + ["--clinical", str(paths["clinical"]), "--out", str(out), "--bootstrap", "20"]
        + ["--format", "json,html,png", "--quiet", "--lmm-random", "case"]
    )
    assert rc == 0
    data = json.loads((out / "report.json").read_text())
    assert data["baseline"]["cases_without_clinical"] == 2
    assert all(row["test"] for row in data["baseline"]["rows"])
    html = (out / "report.html").read_text()
    assert "Table 1 - baseline characteristics" in html and "Mann-Whitney U" in html
    assert "positive (n = " in html
    alts = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', html)
    calibration = [a for a in alts if a.startswith("Calibration curves")]
    decision = [a for a in alts if a.startswith("Decision curves")]
    assert (
        len(calibration) == 1 and "DLRN: Brier" in calibration[0] and "Rad: Brier" in calibration[0]
    )
    assert len(decision) == 1 and "DLRN, Rad" in decision[0]
    assert (out / "calibration.png").is_file() and (out / "decision_curve.png").is_file()


def test_cli_refuses_group_by_without_clinical(study, tmp_path, capsys):
    reads, _, _ = study
    path = tmp_path / "reads.csv"
    reads.to_csv(path, index=False)
    args = ["report", "--reads", str(path), "--out", str(tmp_path), "--group-by", "sex"]
    assert main(args) == 2
    assert "--group-by needs --clinical" in capsys.readouterr().err


def test_build_report_without_clinical_has_no_baseline(study):
    reads, _, _ = study
    report = build_report(reads, None, FAST)
    assert report.baseline is None and "baseline" not in report.to_dict()
