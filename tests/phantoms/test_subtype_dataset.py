"""generate_subtype_dataset and ``python -m phantoms --subtypes``: files, CSVs, determinism."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from phantoms.__main__ import main
from phantoms.subtype_dataset import (
    LABEL_COLUMNS,
    SLICE_COLUMNS,
    generate_subtype_dataset,
    plan_cases,
)
from phantoms.subtypes import CODES, SUBTYPES

from .helpers import tree_hashes


@pytest.fixture(scope="module")
def subtype_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("subA")
    return out, generate_subtype_dataset(out, 6, 3, matrix=64)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_labels_csv_describes_each_case_and_its_label_map(subtype_set):
    out, records = subtype_set
    rows = _rows(out / "labels.csv")
    assert tuple(rows[0]) == LABEL_COLUMNS
    assert [r["case_id"] for r in rows] == [f"PH{i:04d}" for i in range(1, 7)]
    assert {r["label"] for r in rows} == {"ich", "normal"}
    for row, record in zip(rows, records):
        ich = row["label"] == "ich"
        assert row["truth"] == row["ich_present"] == str(int(ich))
        assert (row["subtypes"].split(";") if ich else []) == record["subtypes"]
        assert bool(row["location"]) == ("iph" in record["subtypes"])
        assert (out / row["case_id"]).is_dir()
        if not ich:
            assert row["mask"] == "" and row["subtypes"] == ""
            assert not list(out.glob(f"{row['case_id']}_mask*"))
            continue
        labels = sitk.GetArrayFromImage(sitk.ReadImage(str(out / row["mask"])))
        present = {name for name, code in CODES.items() if (labels == code).any()}
        assert present == set(row["subtypes"].split(";"))


def test_slice_labels_csv_follows_the_label_maps(subtype_set):
    out, _ = subtype_set
    by_study = defaultdict(list)
    for r in _rows(out / "slice_labels.csv"):
        by_study[r["study_instance_uid"]].append(r)
    assert tuple(next(iter(by_study.values()))[0]) == SLICE_COLUMNS
    for case in _rows(out / "labels.csv"):
        rows = by_study[case["study_instance_uid"]]
        files = sorted((out / case["case_id"]).glob("IM*.dcm"))
        assert [int(r["slice"]) for r in rows] == list(range(len(files)))
        sops = [pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID for f in files]
        assert [r["sop_instance_uid"] for r in rows] == sops
        if case["mask"]:
            labels = sitk.GetArrayFromImage(sitk.ReadImage(str(out / case["mask"])))
        else:
            labels = np.zeros((len(files), 1, 1), dtype=np.uint8)
        assert labels.shape[0] == len(files)
        for k, r in enumerate(rows):
            for name in SUBTYPES:
                assert r[name] == str(int((labels[k] == CODES[name]).any())), (case, k, name)
            assert r["any"] == str(int(labels[k].any()))


def test_manifest(subtype_set):
    out, records = subtype_set
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "ich_subtypes"
    assert manifest["seed"] == 3
    assert manifest["parameters"] == {
        "n": 6,
        "normal_fraction": 0.3,
        "thin": False,
        "matrix": 64,
        "tilt_deg": 0.0,
    }
    assert manifest["label_map"] == {
        "0": "none",
        "1": "iph",
        "2": "ivh",
        "3": "sah",
        "4": "sdh",
        "5": "edh",
    }
    assert manifest["cases"] == json.loads(json.dumps(records))
    assert str(out) not in (out / "manifest.json").read_text()


def test_same_seed_identical_bytes_other_seed_differs(subtype_set, tmp_path):
    out, _ = subtype_set
    generate_subtype_dataset(tmp_path / "again", 6, 3, matrix=64)
    first = tree_hashes(out)
    assert len(first) > 100
    assert tree_hashes(tmp_path / "again") == first
    generate_subtype_dataset(tmp_path / "other", 6, 4, matrix=64)
    other = tree_hashes(tmp_path / "other")
    shared = (set(first) & set(other)) - {"manifest.json"}
    assert shared
    assert all(first[k] != other[k] for k in shared)


@pytest.mark.parametrize(
    ("n", "fraction", "n_normal"),
    [(10, 0.3, 3), (2, 0.0, 0), (2, 0.9, 1), (3, 1.0, 3), (20, 0.3, 6)],
)
def test_plan_mixes_normal_and_bleeding_heads(n, fraction, n_normal):
    plans = plan_cases(n, 1, fraction)
    assert len(plans) == n
    assert sum(not subtypes for subtypes, _ in plans) == n_normal
    for subtypes, location in plans:
        assert set(subtypes) <= set(SUBTYPES)
        assert bool(location) == ("iph" in subtypes)


def test_plan_covers_every_subtype_and_location():
    plans = plan_cases(60, 2, 0.3)
    assert {s for subtypes, _ in plans for s in subtypes} == set(SUBTYPES)
    assert {location for _, location in plans} == {"", "deep", "lobar", "subtentorial"}
    assert any(len(subtypes) >= 2 for subtypes, _ in plans)


def test_plan_refuses_bad_arguments():
    with pytest.raises(ValueError, match="n must be"):
        plan_cases(0, 1, 0.3)
    with pytest.raises(ValueError, match="normal_fraction"):
        plan_cases(3, 1, 1.5)


def test_cli_writes_a_tilted_subtype_set(tmp_path, capsys):
    args = ["--out", str(tmp_path / "t"), "--n", "2", "--seed", "8", "--matrix", "32"]
    assert main([*args, "--subtypes", "--tilt", "12", "--normal-fraction", "0.5"]) == 0
    assert "wrote 2 cases (1 with haemorrhage, 1 normal)" in capsys.readouterr().err
    rows = _rows(tmp_path / "t" / "labels.csv")
    mask = next(r["mask"] for r in rows if r["mask"])
    assert mask.endswith("_mask.nrrd")
    first = next((tmp_path / "t" / rows[0]["case_id"]).glob("IM*.dcm"))
    assert float(pydicom.dcmread(first).GantryDetectorTilt) == 12.0
    assert main([*args, "--subtypes", "--tilt", "45"]) == 2
    assert "tilt must be within" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*args, "--tilt", "12"])  # the etiology data set has no tilt
