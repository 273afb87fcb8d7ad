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
    p = result["probabilities"]["cvst_ich"]
    for op, decision in result["decisions"].items():
        assert decision == {"cvst_ich": int(p >= result["thresholds"][op])}
    assert result["slice_probabilities"] == {}  # a scan-level model
    assert result["provenance"]["input"]["meta"]["Modality"] == "CT"
    assert result["provenance"]["device"] == "cpu"  # --device auto on a CPU machine
    # one binary head: <method>_<label> and the method-only name, same map
    assert result["files"] == {
        "mask": "mask.nii.gz",
        "heatmap_gradcampp_cvst_ich": "heatmap_gradcampp_cvst_ich.nii.gz",
        "heatmap_gradcampp": "heatmap_gradcampp.nii.gz",
        "heatmap_cbam_cvst_ich": "heatmap_cbam_cvst_ich.nii.gz",
        "heatmap_cbam": "heatmap_cbam.nii.gz",
    }
    a = sitk.GetArrayFromImage(sitk.ReadImage(str(out / "heatmap_cbam.nii.gz")))
    b = sitk.GetArrayFromImage(sitk.ReadImage(str(out / "heatmap_cbam_cvst_ich.nii.gz")))
    assert np.array_equal(a, b)
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
    args = ["predict", "--input", str(nifti), "--out", str(tmp_path / "o"), "--device", "cpu"]
    assert main(args) == 0
    files = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert files == ["mask.nii.gz", "result.json"]
    assert _same_grid(sitk.ReadImage(str(tmp_path / "o" / "mask.nii.gz")), sich_case.to_sitk())
    assert (
        main(["predict", "--input", str(nifti), "--out", str(tmp_path / "x"), "--explain", "magic"])
        == 2
    )
    assert "has no explainer(s) ['magic']; its explainers: gradcampp" in capsys.readouterr().err
    # explainers are the model's, not a global list: 2D Grad-CAM is another model's
    bad = ["predict", "--input", str(nifti), "--out", str(tmp_path / "x"), "--explain", "gradcam"]
    assert main(bad) == 2
    assert "has no explainer(s) ['gradcam']" in capsys.readouterr().err


def test_predict_cuda_without_cuda_is_a_clear_error(tmp_path, monkeypatch, capsys):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    args = ["predict", "--input", str(tmp_path), "--out", str(tmp_path / "o")]
    assert main([*args, "--device", "cuda"]) == 2
    assert "'cuda' was requested but CUDA is not available" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # refused before reading or writing anything


def test_train_unknown_model_id_lists_the_trainers(tmp_path, capsys):
    assert main(["train", "--model-id", "nope", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "no trainer for model id 'nope'; trainers: " in err and "cvst_ich_demo" in err


def test_train_dispatches_common_flags_to_the_trainer(monkeypatch, tmp_path):
    from inference import trainers

    seen = {}
    module = type(sys)("fake_trainer_mod")
    module.run_cli = lambda args: seen.update(vars(args))
    monkeypatch.setitem(sys.modules, "fake_trainer_mod", module)
    monkeypatch.setitem(trainers.TRAINERS, "fake_model", "fake_trainer_mod:run_cli")
    argv = ["train", "--model-id", "fake_model", "--out", str(tmp_path), "--n-cases", "7"]
    assert (
        main([*argv, "--seed", "3", "--epochs", "2", "--threads", "1", "--version", "1.2.3"]) == 0
    )
    assert {k: seen[k] for k in ("n_cases", "seed", "epochs", "threads", "version")} == {
        "n_cases": 7,
        "seed": 3,
        "epochs": 2,
        "threads": 1,
        "version": "1.2.3",
    }


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
    assert all(isinstance(t, float) for t in demo["operating_points"].values())
    assert [lbl["name"] for lbl in demo["labels"]] == ["cvst_ich", "sich"]
    assert demo["labels"][0]["display"] == "CVST-ICH"
    assert [(h["kind"], h["positive"]) for h in demo["heads"]] == [("binary", "cvst_ich")]
    assert demo["slice_level"] is False and demo["outputs"]["mask"] is True
