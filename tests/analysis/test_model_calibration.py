"""The report's calibration / Hosmer-Lemeshow / decision-curve section from SCORES.csv
(``model`` and ``endpoint`` columns), and its keys in report.json."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from readerstudy.analysis.calibration import calibration, hosmer_lemeshow
from readerstudy.analysis.decision_curve import decision_curve
from readerstudy.analysis.model_calibration import (
    model_calibration_section,
    primary_model_scores,
    validate_model_scores,
)
from readerstudy.analysis.reads import ReadsValidationError
from readerstudy.analysis.simulate import simulate_study

from .refdata import DATA

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scores() -> pd.DataFrame:
    db = pd.read_csv(DATA / "dcurves_df_binary.csv")
    truth = db["cancer"].astype(str).str.upper().eq("TRUE").astype(int)
    shifted = pd.read_csv(DATA / "calibration_shifted.csv")
    return pd.concat(
        [
            pd.DataFrame(
                {"case": db["patientid"], "truth": truth, "score": db["cancerpredmarker"]}
            ).assign(model="DLRN"),
            pd.DataFrame({"case": db["patientid"], "truth": truth, "score": shifted["p"]}).assign(
                model="Rad"
            ),
            pd.DataFrame({"case": db["patientid"], "truth": truth, "score": db["marker"]}).assign(
                model="raw marker"
            ),
        ],
        ignore_index=True,
    )


def test_section_equals_the_building_blocks(scores):
    sec = model_calibration_section(scores)
    assert set(sec["model_performance"]) == {"DLRN", "Rad"}
    assert sec["skipped"] == {
        "model_performance.raw marker.calibration": "scores are not predicted risks in [0, 1]"
    }
    for name, sub in scores[scores["model"] != "raw marker"].groupby("model"):
        entry = sec["model_performance"][name]
        assert entry["calibration"] == calibration(sub["truth"], sub["score"])
        assert entry["hosmer_lemeshow"] == hosmer_lemeshow(sub["truth"], sub["score"])
    dc = sec["decision_curve"]
    y = scores.loc[scores["model"] == "DLRN", "truth"].to_numpy()
    ref = decision_curve(
        y,
        {m: scores.loc[scores["model"] == m, "score"].to_numpy() for m in ("DLRN", "Rad")},
    )
    assert dc["models"] == ref["models"] and dc["treat_all"] == ref["treat_all"]
    assert dc["cases_not_scored_by_every_model"] == 0


def test_single_model_is_named_model(scores):
    one = scores[scores["model"] == "DLRN"].drop(columns="model")
    sec = model_calibration_section(one)
    assert list(sec["model_performance"]) == ["model"]
    assert list(sec["decision_curve"]["models"]) == ["model"]


def test_endpoint_column_nests_by_endpoint(scores):
    two = pd.concat(
        [scores.assign(endpoint="CVT"), scores.assign(endpoint="ICH")], ignore_index=True
    )
    sec = model_calibration_section(two)
    assert set(sec["model_performance"]) == {"CVT", "ICH"}
    assert set(sec["model_performance"]["CVT"]) == {"DLRN", "Rad"}
    assert set(sec["decision_curve"]) == {"CVT", "ICH"}
    assert "model_performance.ICH.raw marker.calibration" in sec["skipped"]


def test_validation_errors(scores):
    dup = pd.concat([scores, scores.iloc[[0]]], ignore_index=True)
    with pytest.raises(ReadsValidationError, match="duplicate"):
        validate_model_scores(dup)
    bad = scores.copy()
    bad.loc[bad.index[-1], "truth"] = 1 - bad.loc[bad.index[-1], "truth"]
    with pytest.raises(ReadsValidationError, match="different 'truth'"):
        validate_model_scores(bad)


def test_primary_model_scores_takes_the_first_model(scores):
    first = primary_model_scores(scores)
    assert "model" not in first.columns and len(first) == 750
    assert first["score"].tolist() == scores.loc[scores["model"] == "DLRN", "score"].tolist()


def test_cli_report_with_several_models(tmp_path):
    reads, sim_scores = simulate_study(4, 40, 12, seed=3)
    reads_csv, scores_csv = tmp_path / "reads.csv", tmp_path / "scores.csv"
    reads.to_csv(reads_csv, index=False)
    shrunk = sim_scores.assign(score=0.5 + 0.5 * (sim_scores["score"] - 0.5))
    pd.concat(
        [sim_scores.assign(model="DLRN"), shrunk.assign(model="Rad")], ignore_index=True
    ).to_csv(scores_csv, index=False)
    out = tmp_path / "out"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "readerstudy.analysis",
            "report",
            "--reads",
            str(reads_csv),
            "--model-scores",
            str(scores_csv),
            "--out",
            str(out),
            "--format",
            "json,png",
            "--bootstrap",
            "50",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    doc = json.loads((out / "report.json").read_text())
    mp = doc["model_performance"]
    for model in ("DLRN", "Rad"):
        assert {"brier", "slope", "intercept", "bins"} <= set(mp[model]["calibration"])
        assert {"statistic", "df", "p", "groups"} <= set(mp[model]["hosmer_lemeshow"])
    assert mp["auc"]["estimate"] is not None  # Table 2 from the first model
    dc = doc["decision_curve"]
    assert set(dc["models"]) == {"DLRN", "Rad"} and len(dc["thresholds"]) == 99
    assert len(dc["treat_all"]) == len(dc["treat_none"]) == 99
    assert any("first of 2" in n for n in doc["meta"]["notes"])
    assert (out / "calibration.png").exists() and (out / "decision_curve.png").exists()
    # the shrunk model is too moderate: its calibration slope exceeds the original's
    assert mp["Rad"]["calibration"]["slope"] > mp["DLRN"]["calibration"]["slope"]
    assert np.isfinite(mp["DLRN"]["hosmer_lemeshow"]["statistic"])
