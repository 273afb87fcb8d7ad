"""A small multi-head model plug-in for framework tests (random weights, CPU, < 1 s).

Heads as in the slice models: ``ich`` (binary, per slice), ``subtypes`` (multi-label, per
slice, cascading from ``ich``) and ``location`` (multi-class). Each slice's mean windowed
intensity goes through one ``nn.Linear(1, 6)``; the scan takes the max over slices.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk
import torch
from safetensors.torch import save_file
from torch import nn

from inference.device import autocast
from inference.geometry import Grid
from inference.manifest import sha256_file
from inference.plugin import PluginModel, PredictOptions
from inference.results import Heatmap, Prediction

LABELS = ("ich", "iph", "sdh", "deep", "lobar")


def toy_manifest(weights: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema_version": "2.0",
        "id": "toy_multihead",
        "version": "0.0.1",
        "name": "toy multi-head model (tests only)",
        "task": "classification",
        "architecture": {"name": "ich_cnn_bigru_v1", "networks": {"linear": {"in": 1, "out": 5}}},
        "labels": [{"name": n, "display": n.upper()} for n in LABELS],
        "heads": [
            {
                "name": "ich",
                "kind": "binary",
                "labels": ["ich"],
                "positive": "ich",
                "slice_level": True,
                "aggregation": "max over slices",
            },
            {
                "name": "subtypes",
                "kind": "multi_label",
                "labels": ["iph", "sdh"],
                "slice_level": True,
                "aggregation": "max over slices",
                "cascade_from": "ich",
            },
            {"name": "location", "kind": "multi_class", "labels": ["deep", "lobar"]},
        ],
        "positive_label": "ich",
        "probability": "P(label): toy",
        "operating_points": {
            "default": {"threshold": 0.5, "rule": "fixed"},
            "strict": {"thresholds": {"ich": 0.9, "iph": 0.9, "sdh": 0.1}, "rule": "fixed"},
        },
        "default_operating_point": "default",
        "input": {"modality": "CT", "body_part": "HEAD", "units": "HU"},
        "preprocessing": {
            "windows": [{"name": "brain", "level": 40, "width": 80}],
            "slice_shape": [8, 8],
            "normalisation": "unit",
        },
        "output": {
            "probabilities": True,
            "mask": False,
            "slice_probabilities": True,
            "heatmaps": ["gradcam"],
        },
        "explainers": {
            "gradcam": {
                "cost": "fast",
                "signed": False,
                "labels": ["ich", "iph"],
                "defaults": {"layer": "linear"},
            }
        },
        "weights": [weights],
        "requirements": {"device": "cpu"},
        "training": {"synthetic": True, "data": "none (random weights)", "metrics": {}},
    }


def write_toy_bundle(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    net = nn.Linear(1, 5)
    f = path / "linear.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(f))
    w = {
        "role": "linear",
        "file": f.name,
        "format": "safetensors",
        "sha256": sha256_file(f),
        "bytes": f.stat().st_size,
    }
    (path / "manifest.json").write_text(json.dumps(toy_manifest(w), indent=2))
    return path


class ToyPlugin(PluginModel):
    def _build(self) -> dict[str, nn.Module]:
        net = nn.Linear(1, 5)
        self.load_into(net, self.state("linear"), "linear")
        return {"linear": net}

    def _predict(self, image: sitk.Image, opts: PredictOptions) -> Prediction:
        hu = sitk.GetArrayFromImage(image).astype(np.float32)
        x = torch.from_numpy(np.clip(hu.mean(axis=(1, 2)) / 80.0, 0, 1))[:, None].to(self.device)
        with torch.inference_mode(), autocast(self.device):
            logits = self.networks["linear"](x).float()
        per_slice = torch.sigmoid(logits[:, :3]).cpu().numpy()  # ich, iph, sdh
        loc = torch.softmax(logits[:, 3:].max(dim=0).values, dim=0).cpu().numpy()
        probs: dict[str, Any] = {n: float(per_slice[:, i].max()) for i, n in enumerate(LABELS[:3])}
        probs["location"] = {"deep": float(loc[0]), "lobar": float(loc[1])}
        heatmaps = {}
        for method in opts.explain:
            for label in self.explainer_labels(method, opts.explain_labels):
                hm = Heatmap(
                    method=method,
                    label=label,
                    array=np.zeros(hu.shape, np.float16),
                    signed=False,
                    params={},
                    passes={"forward": 1, "backward": 1},
                    seconds=0.0,
                )
                heatmaps[hm.key] = hm
        return self.prediction(
            Grid.from_sitk(image),
            probs,
            slice_probabilities={n: per_slice[:, i].tolist() for i, n in enumerate(LABELS[:3])},
            heatmaps=heatmaps,
            provenance={"timings_s": {"forward": 0.0}},
        )
