"""Plug-in contract: manifest schema, weights integrity, entry-point registry."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from inference import registry
from inference.bundle import BundleModel
from inference.manifest import (
    ManifestError,
    WeightsChecksumError,
    WeightsMissingError,
    load_manifest,
    validate_manifest,
)
from inference.pipeline import CVSTICHPipeline

from .conftest import write_tiny_bundle


def _edit(bundle, fn):
    path = bundle / "manifest.json"
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


def test_shipped_manifest_is_valid_and_explicit_about_polarity():
    from inference.builtin import DEMO_DIR

    m = load_manifest(DEMO_DIR)
    assert m["schema_version"] == "2.0"
    assert m["positive_label"] == "cvst_ich"
    assert [lbl["name"] for lbl in m["labels"]] == ["cvst_ich", "sich"]
    assert m["heads"] == [
        {
            "name": "cvst_ich",
            "kind": "binary",
            "labels": ["cvst_ich", "sich"],
            "positive": "cvst_ich",
            "slice_level": False,
        }
    ]
    assert m["probability"].startswith("P(cvst_ich)")
    assert set(m["operating_points"]) == {"high_sensitivity", "high_specificity"}
    assert m["training"]["synthetic"] is True
    assert {"test_auc", "test_dice_mean"} <= set(m["training"]["metrics"])
    total = sum(w["bytes"] for w in m["weights"])
    assert total < 5_000_000  # "a few MB at most"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("positive_label"), "positive_label"),
        (
            lambda d: d["operating_points"]["high_sensitivity"].update(threshold=1.5),
            "operating_points.high_sensitivity.threshold",
        ),
        (lambda d: d["weights"][0].update(sha256="xyz"), "weights.0.sha256"),
        (lambda d: d["weights"][0].update(file="../evil.safetensors"), "weights.0.file"),
        (lambda d: d["weights"][0].update(format="pickle"), "weights.0.format"),
        (lambda d: d["architecture"].update(name="anything_importable"), "architecture.name"),
        (lambda d: d.update(version="one"), "version"),
        (lambda d: d.update(positive_label="ich"), "positive_label"),
        (lambda d: d.update(default_operating_point="youden"), "default_operating_point"),
        (lambda d: d.update(extra_code="__import__('os')"), "extra_code"),
        (lambda d: d["weights"][1].pop("sha256"), "weights.1.sha256"),
    ],
)
def test_manifest_errors_name_the_field(demo_bundle_copy, mutate, field):
    _edit(demo_bundle_copy, mutate)
    with pytest.raises(ManifestError) as err:
        BundleModel(demo_bundle_copy)
    assert f"field '{field}'" in str(err.value)


def test_manifest_not_json(demo_bundle_copy):
    (demo_bundle_copy / "manifest.json").write_text("{not json")
    with pytest.raises(ManifestError, match="not readable JSON"):
        load_manifest(demo_bundle_copy)


def test_missing_weights_refused(demo_bundle_copy):
    (demo_bundle_copy / "classifier.safetensors").unlink()
    model = BundleModel(demo_bundle_copy)  # manifest alone is fine
    with pytest.raises(WeightsMissingError, match="role 'classifier' is missing"):
        model.load()


def test_corrupted_weights_refused(demo_bundle_copy):
    path = demo_bundle_copy / "segmentation.safetensors"
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF  # flip one byte inside a tensor
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsChecksumError, match="does not match the manifest: sha256"):
        CVSTICHPipeline.from_bundle(demo_bundle_copy)


def test_swapped_weights_refused(demo_bundle_copy):
    """Same size is not enough: a different file with a stale manifest is refused."""
    seg = demo_bundle_copy / "segmentation.safetensors"
    cls = demo_bundle_copy / "classifier.safetensors"
    seg_bytes, cls_bytes = seg.read_bytes(), cls.read_bytes()
    seg.write_bytes(cls_bytes)
    cls.write_bytes(seg_bytes)
    with pytest.raises(WeightsChecksumError):
        BundleModel(demo_bundle_copy).load()


def test_tiny_random_bundle_loads(tmp_path):
    bundle = write_tiny_bundle(tmp_path / "tiny")
    pipe = CVSTICHPipeline.from_bundle(bundle)
    assert pipe.id == "tiny_random"
    assert pipe.classifier.cfg.features == 2


def test_registry_lists_builtin_and_rejects_unknown():
    ids = [m["id"] for m in registry.list_models()]
    assert "cvst_ich_demo" in ids
    entry = next(m for m in registry.list_models() if m["id"] == "cvst_ich_demo")
    assert "error" not in entry and entry["positive_label"] == "cvst_ich"
    with pytest.raises(registry.RegistryError, match="unknown model"):
        registry.get_model("no_such_model")


def test_registry_discovers_entry_points(monkeypatch, tmp_path):
    """A third-party plug-in installed under the group is found by its entry-point name."""
    bundle = write_tiny_bundle(tmp_path / "tiny")
    module = type(sys)("tiny_plugin_mod")
    module.factory = lambda: BundleModel(bundle)
    monkeypatch.setitem(sys.modules, "tiny_plugin_mod", module)
    ep = EntryPoint("tiny_random", "tiny_plugin_mod:factory", registry.GROUP)
    monkeypatch.setattr(
        registry, "entry_points", lambda group: [ep] if group == registry.GROUP else []
    )
    assert registry.get_model("tiny_random").id == "tiny_random"
    assert "tiny_random" in [m["id"] for m in registry.list_models()]
    # an entry point whose manifest id differs from its name is refused
    bad = EntryPoint("other_name", "tiny_plugin_mod:factory", registry.GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [bad])
    with pytest.raises(registry.RegistryError, match="manifest id"):
        registry.get_model("other_name")


def test_validate_manifest_accepts_the_shipped_one_only_once_fixed():
    from inference.builtin import DEMO_DIR

    data = json.loads((DEMO_DIR / "manifest.json").read_text())
    data["output"]["heatmaps"].append("gradcam")
    with pytest.raises(ManifestError, match="output.heatmaps"):
        validate_manifest(data)


def _imports_torch(code: str) -> bool:
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code + "; print('torch' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    )
    return out.stdout.strip().splitlines()[-1] == "True"


def test_package_import_is_light():
    """The web tier imports the registry/manifest/plug-in base and lists the built-in demo
    model without pulling torch."""
    code = (
        "import sys, inference, inference.registry, inference.manifest, inference.bundle,"
        " inference.plugin, inference.device, inference.trainers;"
        "inference.registry.discover();"
        "inference.registry.summary(inference.get_model('cvst_ich_demo').manifest(), 'x')"
    )
    assert not _imports_torch(code)
