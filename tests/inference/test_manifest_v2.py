"""Manifest schema 2.0: labels as objects, heads, per-label thresholds, architectures,
explainers and outputs; every error names the field."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from inference.builtin import DEMO_DIR
from inference.manifest import ManifestError, label_thresholds, validate_manifest

from .toy_plugin import toy_manifest

WEIGHTS = {
    "role": "linear",
    "file": "linear.safetensors",
    "format": "safetensors",
    "sha256": "0" * 64,
    "bytes": 10,
}


def _toy() -> dict[str, Any]:
    return toy_manifest(dict(WEIGHTS))


def _demo() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DEMO_DIR / "manifest.json").read_text())
    return data


def test_the_toy_and_the_demo_manifest_are_valid():
    validate_manifest(_toy())
    validate_manifest(_demo())


def test_only_schema_2_is_accepted():
    data = _demo()
    data["schema_version"] = "1.0"
    with pytest.raises(ManifestError, match="field 'schema_version'"):
        validate_manifest(data)


def _heads(d: dict[str, Any]) -> list[dict[str, Any]]:
    heads: list[dict[str, Any]] = d["heads"]
    return heads


CASES: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("label not an object", lambda d: d["labels"].append("edh"), "labels.5"),
    ("label without display", lambda d: d["labels"][0].pop("display"), "labels.0.display"),
    ("label name pattern", lambda d: d["labels"][0].update(name="ICH"), "labels.0.name"),
    (
        "too many labels",
        lambda d: d["labels"].extend([{"name": f"l{i}", "display": "x"} for i in range(28)]),
        "labels",
    ),
    (
        "duplicate label",
        lambda d: d["labels"].append({"name": "ich", "display": "again"}),
        "labels",
    ),
    ("no heads", lambda d: d.update(heads=[]), "heads"),
    ("bad head kind", lambda d: _heads(d)[0].update(kind="ordinal"), "heads.0.kind"),
    ("binary without positive", lambda d: _heads(d)[0].pop("positive"), "heads.0.positive"),
    (
        "binary with 3 labels",
        lambda d: _heads(d)[0].update(labels=["ich", "iph", "sdh"]),
        "heads.0.labels",
    ),
    ("positive outside head", lambda d: _heads(d)[0].update(positive="iph"), "heads.0.positive"),
    ("multi-class of one", lambda d: _heads(d)[2].update(labels=["deep"]), "heads.2.labels"),
    ("head names unknown label", lambda d: _heads(d)[1]["labels"].append("edh"), "heads.1.labels"),
    ("label in no head", lambda d: d["labels"].append({"name": "edh", "display": "EDH"}), "heads"),
    ("label in two heads", lambda d: _heads(d)[1]["labels"].append("ich"), "heads"),
    ("duplicate head names", lambda d: _heads(d)[1].update(name="ich"), "heads"),
    (
        "cascade from unknown",
        lambda d: _heads(d)[1].update(cascade_from="edh"),
        "heads.1.cascade_from",
    ),
    (
        "cascade from own label",
        lambda d: _heads(d)[1].update(cascade_from="iph"),
        "heads.1.cascade_from",
    ),
    (
        "cascade from a class",
        lambda d: _heads(d)[1].update(cascade_from="deep"),
        "heads.1.cascade_from",
    ),
    ("positive label is a class", lambda d: d.update(positive_label="deep"), "positive_label"),
    ("positive label unknown", lambda d: d.update(positive_label="edh"), "positive_label"),
    (
        "op with both threshold kinds",
        lambda d: d["operating_points"]["strict"].update(threshold=0.5),
        "operating_points.strict",
    ),
    (
        "op without threshold",
        lambda d: d["operating_points"]["default"].pop("threshold"),
        "operating_points.default",
    ),
    (
        "per-label threshold missing a label",
        lambda d: d["operating_points"]["strict"]["thresholds"].pop("sdh"),
        "operating_points.strict.thresholds",
    ),
    (
        "per-label threshold of a class",
        lambda d: d["operating_points"]["strict"]["thresholds"].update(deep=0.5),
        "operating_points.strict.thresholds",
    ),
    (
        "per-label threshold > 1",
        lambda d: d["operating_points"]["strict"]["thresholds"].update(sdh=2),
        "operating_points.strict.thresholds.sdh",
    ),
    (
        "unknown architecture",
        lambda d: d["architecture"].update(name="resnet_from_pypi"),
        "architecture.name",
    ),
    ("no networks", lambda d: d["architecture"].pop("networks"), "architecture.networks"),
    (
        "slice preprocessing without windows",
        lambda d: d["preprocessing"].pop("windows"),
        "preprocessing.windows",
    ),
    (
        "window width 0",
        lambda d: d["preprocessing"]["windows"][0].update(width=0),
        "preprocessing.windows.0.width",
    ),
    (
        "slice shape of 3",
        lambda d: d["preprocessing"].update(slice_shape=[1, 2, 3]),
        "preprocessing.slice_shape",
    ),
    (
        "unknown explainer",
        lambda d: d["explainers"].update(lime=d["explainers"]["gradcam"]),
        "explainers",
    ),
    (
        "explainer of unknown label",
        lambda d: d["explainers"]["gradcam"].update(labels=["edh"]),
        "explainers.gradcam.labels",
    ),
    (
        "explainer layer not a string",
        lambda d: d["explainers"]["gradcam"]["defaults"].update(layer=3),
        "explainers.gradcam.defaults.layer",
    ),
    (
        "heatmap without explainer",
        lambda d: d["output"]["heatmaps"].append("attention"),
        "output.heatmaps",
    ),
    (
        "slice outputs without slice heads",
        lambda d: [h.update(slice_level=False) for h in _heads(d)],
        "output.slice_probabilities",
    ),
    (
        "slice heads without slice outputs",
        lambda d: d["output"].update(slice_probabilities=False),
        "output.slice_probabilities",
    ),
    (
        "probabilities false",
        lambda d: d["output"].update(probabilities=False),
        "output.probabilities",
    ),
    ("weights role pattern", lambda d: d["weights"][0].update(role="Linear Net"), "weights.0.role"),
    ("weights duplicate role", lambda d: d["weights"].append(dict(d["weights"][0])), "weights"),
    (
        "weights not safetensors",
        lambda d: d["weights"][0].update(file="linear.pt"),
        "weights.0.file",
    ),
]


@pytest.mark.parametrize(("case", "mutate", "field"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_names_its_field(case, mutate, field):
    data = copy.deepcopy(_toy())
    mutate(data)
    with pytest.raises(ManifestError) as err:
        validate_manifest(data)
    assert f"field '{field}'" in str(err.value), str(err.value)


def test_the_seed_000_architecture_keeps_its_typed_networks_and_preprocessing():
    data = _demo()
    data["architecture"]["networks"]["classifier"]["depth"] = 9
    with pytest.raises(ManifestError, match="field 'architecture.networks.classifier.depth'"):
        validate_manifest(data)
    data = _demo()
    del data["architecture"]["networks"]["segmentation"]
    with pytest.raises(ManifestError, match="field 'architecture.networks.segmentation'"):
        validate_manifest(data)
    data = _demo()
    data["preprocessing"] = _toy()["preprocessing"]  # slice preprocessing is not its shape
    with pytest.raises(ManifestError, match="field 'preprocessing"):
        validate_manifest(data)


def test_other_architectures_validate_their_own_network_config():
    data = _toy()
    data["architecture"]["networks"]["linear"] = {"anything": [1, 2], "the_plugin": "checks"}
    validate_manifest(data)


def test_label_thresholds_expand_a_single_threshold():
    m = _toy()
    assert label_thresholds(m, "default") == {"ich": 0.5, "iph": 0.5, "sdh": 0.5}
    assert label_thresholds(m, "strict") == {"ich": 0.9, "iph": 0.9, "sdh": 0.1}
