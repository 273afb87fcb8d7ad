"""generate_dataset and the command line: labels, manifest, byte-identical output."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from phantoms import LABELS, generate_dataset
from phantoms.__main__ import main
from phantoms.dataset import dataset_labels

from .helpers import tree_hashes

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("setA")
    return out, generate_dataset(out, 4, 17, matrix=64)


def test_records_and_files(small_set):
    out, records = small_set
    assert [r["case_id"] for r in records] == ["PH0001", "PH0002", "PH0003", "PH0004"]
    assert {r["label"] for r in records} == set(LABELS)
    for r in records:
        assert r["truth"] == int(r["label"] == "cvst_ich")
        assert Path(r["path"]) == out / r["case_id"]
        assert len(list(Path(r["path"]).glob("IM*.dcm"))) == r["n_slices"]
        assert Path(r["mask_path"]).is_file()
    assert len({r["study_instance_uid"] for r in records}) == 4


def test_labels_csv_and_manifest(small_set):
    out, records = small_set
    with open(out / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [
        "case_id",
        "label",
        "truth",
        "study_instance_uid",
        "series_instance_uid",
    ]
    assert [r["case_id"] for r in rows] == [r["case_id"] for r in records]
    assert [int(r["truth"]) for r in rows] == [r["truth"] for r in records]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 17
    assert manifest["version"]
    assert manifest["parameters"] == {
        "n": 4,
        "thin": False,
        "matrix": 64,
        "positive_fraction": 0.35,
    }
    assert [c["case_id"] for c in manifest["cases"]] == [r["case_id"] for r in records]
    assert str(out) not in (out / "manifest.json").read_text()  # relocatable


def test_same_seed_identical_bytes(small_set, tmp_path):
    out, _ = small_set
    again = tmp_path / "setB"
    generate_dataset(again, 4, 17, matrix=64)
    first, second = tree_hashes(out), tree_hashes(again)
    assert len(first) > 10
    assert first == second


def test_different_seed_differs(small_set, tmp_path):
    out, _ = small_set
    other = tmp_path / "setC"
    generate_dataset(other, 4, 18, matrix=64)
    a, b = tree_hashes(out), tree_hashes(other)
    shared = set(a) & set(b)
    assert shared
    assert all(a[k] != b[k] for k in shared)


@pytest.mark.parametrize(
    ("n", "fraction", "n_pos"),
    [(2, 0.35, 1), (2, 0.0, 1), (2, 1.0, 1), (10, 0.35, 4), (20, 0.5, 10)],
)
def test_both_classes_present(n, fraction, n_pos):
    labels = dataset_labels(n, 3, fraction)
    assert len(labels) == n
    assert labels.count("cvst_ich") == n_pos
    assert set(labels) == set(LABELS)


def test_cli(tmp_path):
    assert main(["--out", str(tmp_path / "cli"), "--n", "2", "--seed", "5", "--matrix", "48"]) == 0
    assert (tmp_path / "cli" / "labels.csv").is_file()
    proc = subprocess.run(
        [sys.executable, "-m", "phantoms", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--thin" in proc.stdout
    assert "--matrix" in proc.stdout
