"""Registering a manifest 2.0 stores per-label thresholds; the API shows labels and heads."""

import pytest

from readerstudy.ai.registry import register_manifest, sync_installed_models
from tests.factories import PASSWORD, CoordinatorFactory
from tests.inference.toy_plugin import toy_manifest

pytestmark = pytest.mark.django_db

WEIGHTS = {
    "role": "linear",
    "file": "l.safetensors",
    "format": "safetensors",
    "sha256": "1" * 64,
    "bytes": 1,
}


def test_register_keeps_single_and_per_label_thresholds_and_the_api_shows_heads(client):
    version = register_manifest(toy_manifest(dict(WEIGHTS)))
    assert version.operating_points == {
        "default": 0.5,
        "strict": {"ich": 0.9, "iph": 0.9, "sdh": 0.1},
    }
    assert version.positive_label == "ich" and version.explainers == ["gradcam"]
    client.login(username=CoordinatorFactory().username, password=PASSWORD)
    row = next(m for m in client.get("/api/ai/models/").json() if m["model_id"] == "toy_multihead")
    assert [lbl["display"] for lbl in row["labels"]] == ["ICH", "IPH", "SDH", "DEEP", "LOBAR"]
    assert [(h["name"], h["kind"]) for h in row["heads"]] == [
        ("ich", "binary"),
        ("subtypes", "multi_label"),
        ("location", "multi_class"),
    ]
    assert row["heads"][1]["cascade_from"] == "ich"
    assert row["heads"][2]["slice_level"] is False
    assert row["operating_points"]["strict"]["sdh"] == 0.1


def test_the_shipped_demo_registers_with_its_two_thresholds():
    (demo,) = sync_installed_models(only=["cvst_ich_demo"])
    assert set(demo.operating_points) == {"high_sensitivity", "high_specificity"}
    assert all(isinstance(t, float) for t in demo.operating_points.values())
    assert demo.manifest["heads"][0]["positive"] == "cvst_ich"
