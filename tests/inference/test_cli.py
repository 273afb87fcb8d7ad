"""The command line writes the documented files on the input series' grid."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from inference.cli import main
from inference.volume_io import read_dicom_series

ROOT = Path(__file__).resolve().parents[2]


def _same_grid(a: sitk.Image, b: sitk.Image) -> bool:
    return (
        a.GetSize() == b.GetSize()
        and np.allclose(a.GetOrigin(), b.GetOrigin(), atol=1e-3)
        and np.allclose(a.GetSpacing(), b.GetSpacing(), atol=1e-4)
        and np.allclose(a.GetDirection(), b.GetDirection(), atol=1e-6)
    )


def test_predict_on_dicom_series(tmp_path):
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "data", 1, seed=31, matrix=128)
    series = Path(records[0]["path"])
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "inference",
            "predict",
            "--input",
            str(series),
            "--out",
            str(out),
            "--explain",
            "gradcampp,cbam",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "result.json").read_text())
    assert {"probabilities", "decisions", "provenance"} <= set(result)
    assert set(result["decisions"]) == {"high_sensitivity", "high_specificity"}
    assert set(result["decisions"].values()) <= {"cvst_ich", "sich"}
    assert result["provenance"]["input"]["meta"]["Modality"] == "CT"
    assert result["files"] == {
        "mask": "mask.nii.gz",
        "heatmap_gradcampp": "heatmap_gradcampp.nii.gz",
        "heatmap_cbam": "heatmap_cbam.nii.gz",
    }
    ref, _ = read_dicom_series(series)
    for name in result["files"].values():
        assert _same_grid(sitk.ReadImage(str(out / name)), ref), name
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(out / "mask.nii.gz")))
    truth = sitk.GetArrayFromImage(sitk.ReadImage(records[0]["mask_path"]))
    assert mask.shape == truth.shape
    assert (mask & truth).sum() > 0.5 * truth.sum()  # mostly finds the hematoma


def test_predict_on_nifti_and_bad_explainer(tmp_path, sich_case, capsys):
    nifti = tmp_path / "ct.nii.gz"
    sitk.WriteImage(sich_case.to_sitk(), str(nifti))
    assert main(["predict", "--input", str(nifti), "--out", str(tmp_path / "o")]) == 0
    files = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert files == ["mask.nii.gz", "result.json"]
    assert _same_grid(sitk.ReadImage(str(tmp_path / "o" / "mask.nii.gz")), sich_case.to_sitk())
    assert (
        main(["predict", "--input", str(nifti), "--out", str(tmp_path / "x"), "--explain", "magic"])
        == 2
    )
    assert "unknown explainer" in capsys.readouterr().err


def test_list_models_cli():
    proc = subprocess.run(
        [sys.executable, "-m", "inference", "list-models", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    models = json.loads(proc.stdout)
    demo = next(m for m in models if m["id"] == "cvst_ich_demo")
    assert demo["positive_label"] == "cvst_ich"
    assert set(demo["operating_points"]) == {"high_sensitivity", "high_specificity"}
