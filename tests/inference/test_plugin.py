"""The plug-in base: decisions from heads and operating points, lazy weights, device,
provenance, and the CLI's per-label files for a multi-head model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import SimpleITK as sitk
import torch

from inference import registry
from inference.cli import main
from inference.device import DeviceError, resolve_device
from inference.manifest import WeightsChecksumError
from inference.plugin import PredictOptions, decide

from .toy_plugin import ToyPlugin, toy_manifest, write_toy_bundle

MANIFEST = toy_manifest({"role": "linear"})


def _probs(ich, iph, sdh, deep=0.3, lobar=0.7):
    return {"ich": ich, "iph": iph, "sdh": sdh, "location": {"deep": deep, "lobar": lobar}}


def test_decide_binary_multilabel_and_per_label_thresholds():
    d = decide(MANIFEST, _probs(0.95, 0.6, 0.2))
    assert d["default"] == {"ich": 1, "iph": 1, "sdh": 0, "deep": 0, "lobar": 1}
    # per-label thresholds: iph 0.6 < 0.9 -> 0, sdh 0.2 >= 0.1 -> 1
    assert d["strict"] == {"ich": 1, "iph": 0, "sdh": 1, "deep": 0, "lobar": 1}
    # the threshold itself counts as positive
    assert decide(MANIFEST, _probs(0.5, 0.5, 0.49))["default"]["ich"] == 1


def test_decide_cascade_zeroes_subtypes_when_ich_is_negative():
    d = decide(MANIFEST, _probs(0.4, 0.99, 0.99))
    assert d["default"]["ich"] == 0
    assert d["default"]["iph"] == 0 and d["default"]["sdh"] == 0
    # the multi-class head has no cascade: still one-hot
    assert d["default"]["deep"] + d["default"]["lobar"] == 1


def test_decide_multiclass_is_one_hot_of_argmax():
    d = decide(MANIFEST, _probs(0.9, 0.1, 0.1, deep=0.8, lobar=0.2))
    assert (d["default"]["deep"], d["default"]["lobar"]) == (1, 0)
    assert (d["strict"]["deep"], d["strict"]["lobar"]) == (1, 0)


def test_decide_names_missing_probabilities():
    with pytest.raises(ValueError, match=r"lack \['sdh', 'location'\]"):
        decide(MANIFEST, {"ich": 0.5, "iph": 0.5})


def _image(n=6):
    rng = np.random.default_rng(0)
    arr = rng.normal(40, 20, (n, 16, 16)).astype(np.float32)
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing((0.5, 0.5, 5.0))
    return img


def test_plugin_predicts_every_output_on_cpu(tmp_path):
    model = ToyPlugin(write_toy_bundle(tmp_path / "toy"))
    assert model.networks == {}  # nothing loaded before the first predict
    pred = model.predict(_image(), options={"explain": "gradcam", "device": "auto"})
    assert set(pred.probabilities) == {"ich", "iph", "sdh", "location"}
    assert set(pred.decisions) == {"default", "strict"}
    assert all(v in (0, 1) for d in pred.decisions.values() for v in d.values())
    assert {k: len(v) for k, v in pred.slice_probabilities.items()} == {
        "ich": 6,
        "iph": 6,
        "sdh": 6,
    }
    # the manifest restricts gradcam to ich and iph
    assert sorted(pred.heatmaps) == ["gradcam_ich", "gradcam_iph"]
    assert pred.heatmap("gradcam").label == "ich"
    prov = pred.provenance
    assert prov["device"] == "cpu" and prov["autocast"] is None
    assert prov["weights_sha256"] == model.weights_sha256
    assert {"forward", "total", "load_and_input"} <= set(prov["timings_s"])
    assert prov["libraries"]["torch"] == torch.__version__
    assert pred.thresholds == {"default": 0.5, "strict": {"ich": 0.9, "iph": 0.9, "sdh": 0.1}}


def test_plugin_explain_labels_and_unknown_explainer(tmp_path):
    model = ToyPlugin(write_toy_bundle(tmp_path / "toy"))
    pred = model.predict(_image(), options={"explain": ["gradcam"], "explain_labels": "iph"})
    assert list(pred.heatmaps) == ["gradcam_iph"]
    with pytest.raises(ValueError, match=r"no explainer\(s\) \['attention'\]; its explainers"):
        model.predict(_image(), options={"explain": "attention"})
    with pytest.raises(TypeError, match="unknown predict option"):
        model.predict(_image(), options={"explian": "gradcam"})


def test_plugin_verifies_weights_lazily(tmp_path):
    bundle = write_toy_bundle(tmp_path / "toy")
    f = bundle / "linear.safetensors"
    data = bytearray(f.read_bytes())
    data[-1] ^= 0xFF
    f.write_bytes(bytes(data))
    model = ToyPlugin(bundle)  # the manifest alone is fine
    with pytest.raises(WeightsChecksumError, match="does not match the manifest"):
        model.predict(_image())


def test_device_resolution_on_a_machine_without_cuda(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    assert resolve_device(None) == "cpu"
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(DeviceError, match="CUDA is not available on this machine"):
        resolve_device("cuda")
    with pytest.raises(DeviceError, match="not one of auto, cpu, cuda"):
        resolve_device("gpu")
    model = ToyPlugin(write_toy_bundle(tmp_path / "toy"))
    with pytest.raises(DeviceError, match="'cuda:0' was requested"):
        model.predict(_image(), options=PredictOptions(device="cuda:0"))


@pytest.fixture
def toy_registered(monkeypatch, tmp_path):
    bundle = write_toy_bundle(tmp_path / "toy")
    import sys

    module = type(sys)("toy_plugin_entry")
    module.factory = lambda: ToyPlugin(bundle)
    monkeypatch.setitem(sys.modules, "toy_plugin_entry", module)
    monkeypatch.setitem(registry.BUILTIN, "toy_multihead", "toy_plugin_entry:factory")
    return bundle


def test_cli_writes_per_label_heatmaps_for_a_multi_head_model(toy_registered, tmp_path):
    nifti = tmp_path / "ct.nii.gz"
    sitk.WriteImage(_image(), str(nifti))
    out = tmp_path / "out"
    args = ["predict", "--model", "toy_multihead", "--input", str(nifti), "--out", str(out)]
    assert main([*args, "--explain", "all", "--device", "cpu"]) == 0
    result = json.loads((out / "result.json").read_text())
    assert set(result["probabilities"]["location"]) == {"deep", "lobar"}
    assert result["decisions"]["strict"]["sdh"] in (0, 1)
    assert len(result["slice_probabilities"]["ich"]) == 6
    assert result["provenance"]["device"] == "cpu"
    # several scored labels: only <method>_<label> names, no method-only file
    assert sorted(p.name for p in out.iterdir()) == [
        "heatmap_gradcam_ich.nii.gz",
        "heatmap_gradcam_iph.nii.gz",
        "result.json",
    ]


def test_list_models_shows_heads_labels_and_per_label_thresholds(toy_registered):
    toy = next(m for m in registry.list_models() if m["id"] == "toy_multihead")
    assert "error" not in toy, toy
    assert toy["labels"][0] == {"name": "ich", "display": "ICH"}
    assert [h["kind"] for h in toy["heads"]] == ["binary", "multi_label", "multi_class"]
    assert toy["heads"][2]["slice_level"] is False  # the schema default, made explicit
    assert toy["slice_level"] is True
    assert toy["operating_points"] == {
        "default": 0.5,
        "strict": {"ich": 0.9, "iph": 0.9, "sdh": 0.1},
    }
    assert toy["outputs"] == {"mask": False, "slice_probabilities": True, "heatmaps": ["gradcam"]}


def test_cli_reports_a_broken_bundle_without_a_traceback(toy_registered, tmp_path, capsys):
    (toy_registered / "manifest.json").write_text("{}")
    args = ["predict", "--model", "toy_multihead", "--input", str(tmp_path), "--out", "o"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "is invalid: field 'schema_version'" in err
