"""The DLRN trainer's ``--icc ICC.json --icc-threshold T`` step: radiomic features whose
ICC(2,1) (from ``python -m readerstudy.analysis icc``) is below T never reach selection."""

from __future__ import annotations

import argparse
import csv
import json

import numpy as np
import pytest

from inference.zoo.dlrn.selection import select
from inference.zoo.dlrn.train import icc_exclusions, radiomics_matrix
from readerstudy.analysis.cli import main as analysis_main

N_CASES = 40
FEATURES = ("reliable_signal", "unreliable_signal", "reliable_noise", "undefined")


def _cases(seed: int = 0) -> tuple[list[dict], np.ndarray, dict[str, np.ndarray]]:
    """40 cases (25 % positive) whose two signal features separate the classes equally well;
    ``undefined`` is NaN on one training case."""
    rng = np.random.default_rng(seed)
    y = (np.arange(N_CASES) < N_CASES // 4).astype(int)
    truth = {
        "reliable_signal": 3.0 * y + rng.normal(size=N_CASES),
        "unreliable_signal": 3.0 * y + rng.normal(size=N_CASES),
        "reliable_noise": rng.normal(size=N_CASES),
        "undefined": rng.normal(size=N_CASES),
    }
    cases = [
        {"truth": int(y[i]), "radiomics": {f: float(truth[f][i]) for f in FEATURES}}
        for i in range(N_CASES)
    ]
    cases[1]["radiomics"]["undefined"] = float("nan")
    return cases, y, truth


def _icc_report(tmp_path, truth: dict[str, np.ndarray], seed: int = 1):
    """ICC report of two readers (A twice, B once) from the real ``icc`` command: the
    reliable features are re-measured with 2 % noise, ``unreliable_signal`` with noise as
    large as the feature itself."""
    rng = np.random.default_rng(seed)
    path = tmp_path / "features.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["case", "rater", "session", "feature", "value"])
        for rater, session in (("A", "1"), ("A", "2"), ("B", "1")):
            for f in ("reliable_signal", "unreliable_signal", "reliable_noise"):
                sd = 1.5 if f == "unreliable_signal" else 0.02
                for i, v in enumerate(truth[f]):
                    w.writerow([f"C{i:02d}", rater, session, f, v + rng.normal(scale=sd)])
    out = tmp_path / "icc"
    assert analysis_main(["icc", "--features", str(path), "--out", str(out), "--quiet"]) == 0
    report = out / "report.json"
    table = json.loads(report.read_text())["icc"]
    assert table["reliable_signal"]["icc2_1"] > 0.95 and table["reliable_noise"]["icc2_1"] > 0.95
    assert table["unreliable_signal"]["icc2_1"] < 0.8
    return report


def test_features_below_the_icc_threshold_are_excluded_from_selection(tmp_path):
    cases, y, truth = _cases()
    idx_tr = np.arange(N_CASES)
    report = _icc_report(tmp_path, truth)

    plain = radiomics_matrix(cases, idx_tr)
    assert plain.used == ["reliable_signal", "unreliable_signal", "reliable_noise"]
    assert plain.icc_report == {}
    # without the ICC step the unreliable feature is as selectable as its reliable twin
    assert "unreliable_signal" in select(plain.values, y, plain.used, seed=0).names

    rm = radiomics_matrix(cases, idx_tr, report, 0.8)
    assert rm.extracted == list(FEATURES)
    assert rm.used == ["reliable_signal", "reliable_noise"]
    assert rm.values.shape == (N_CASES, 2)
    np.testing.assert_array_equal(rm.values[:, 0], truth["reliable_signal"])
    assert rm.icc_report == {
        "file": "report.json",
        "threshold": 0.8,
        "covered": 3,
        "excluded": 1,
        "statistic": "icc2_1",
    }
    sel = select(rm.values, y, rm.used, seed=0)
    assert "unreliable_signal" not in sel.names and "reliable_signal" in sel.names
    assert sel.counts["input"] == 2

    # a stricter threshold excludes the reliable features too
    strict = radiomics_matrix(cases, idx_tr, report, 0.9999999)
    assert strict.used == []


def test_icc_threshold_boundary_and_undefined_iccs(tmp_path):
    names = ["at", "below", "nan", "missing_value", "not_covered"]
    doc = {
        "icc": {
            "at": {"icc2_1": 0.8},
            "below": {"icc2_1": 0.7999},
            "nan": {"icc2_1": float("nan")},
            "missing_value": {"icc3_1": 0.95},
        }
    }
    path = tmp_path / "icc.json"
    path.write_text(json.dumps(doc))
    excluded, info = icc_exclusions(path, 0.8, names)
    # kept at the threshold; an undefined ICC is not evidence of reliability; a feature the
    # report does not cover is left to selection
    assert excluded == {"below", "nan", "missing_value"}
    assert info["covered"] == 4 and info["excluded"] == 3


def test_icc_reports_that_cannot_be_used_are_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"summary": {}}))
    with pytest.raises(ValueError, match="no 'icc' object"):
        icc_exclusions(bad, 0.8, ["a"])
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"icc": {"b": {"icc2_1": 0.9}}}))
    with pytest.raises(ValueError, match="none of the 1 radiomic features has an ICC"):
        icc_exclusions(other, 0.8, ["a"])


def test_the_train_command_passes_icc_and_threshold_to_the_trainer():
    from inference.cli import build_parser

    args = build_parser().parse_args(
        ["train", "--model-id", "cvt_hematoma_dlrn", "--out", "x"]
        + ["--icc", "report.json", "--icc-threshold", "0.85"]
    )
    assert isinstance(args, argparse.Namespace)
    assert (args.icc, args.icc_threshold) == ("report.json", 0.85)
