"""The bundle the trainer writes: member weights, manifest (schema 2.0), model card."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...manifest import sha256_file, validate_manifest
from ..labels import DISPLAY
from ..slices import SliceConfig
from .card import model_card
from .data import HELD_OUT_SEED, LABELS, MATRIX, NORMAL_FRACTION
from .network import GRADCAM_LAYER, Member

if TYPE_CHECKING:
    from .train import TrainConfig

MODEL_ID = "ich_subtypes_cnn_bigru"


def member_role(k: int) -> str:
    return f"member{k}"


def save_member(member: Member, path: Path) -> None:
    from safetensors.torch import save_file

    state = {k: v.detach().cpu().contiguous() for k, v in member.state_dict().items()}
    save_file(state, str(path), metadata={"format": "pt"})


def build_manifest(
    members: Sequence[Member],
    cfg: SliceConfig,
    tc: TrainConfig,
    metrics: dict[str, Any],
    scales: dict[str, float],
    weights: list[dict[str, Any]],
    version: str,
    runtime: dict[str, Any] | None,
) -> dict[str, Any]:
    gradcam: dict[str, Any] = {
        "cost": "fast",
        "signed": False,
        "labels": "all",
        "defaults": {
            "layer": GRADCAM_LAYER,
            "scaling": "case",
            "global_scale": {k: round(v, 6) for k, v in scales.items()},
            "batch_size": 64,
        },
        "description": "2D Grad-CAM per slice and label on the CNN's rectified last "
        "convolutional stage (the CNN's saliency, not the sequence models'); members averaged",
    }
    if runtime:
        gradcam["measured_seconds_2core_cpu"] = runtime["case_seconds_with_gradcam"]
    return {
        "schema_version": "2.0",
        "id": MODEL_ID,
        "version": version,
        "name": "ICH and five subtypes per slice, seed-004 architecture (demo weights, synthetic data)",
        "description": "2D DenseNet on three-window RGB slices -> bidirectional GRU over the "
        "slice features -> stacking GRU over CNN and GRU predictions plus slice thickness; "
        "scan = max over slices. Trained on synthetic phantoms only: a demonstration model, "
        "not a medical device; never use for patient care.",
        "license": "Apache-2.0",
        "authors": ["readerstudy contributors"],
        "citation": "Architecture after Wang et al., NeuroImage: Clinical 2021 (RSNA 2019 "
        "challenge, first place); re-implemented small, weights not theirs.",
        "intended_use": "software testing and reader-study demonstrations",
        "task": "classification",
        "architecture": {
            "name": "ich_cnn_bigru_v1",
            "variant": "small-densenet",
            "parameters": {
                member_role(k): sum(p.numel() for p in m.parameters())
                for k, m in enumerate(members)
            },
            "networks": {member_role(k): m.config.to_dict() for k, m in enumerate(members)},
        },
        "labels": [{"name": n, "display": DISPLAY[n]} for n in LABELS],
        "heads": [
            {
                "name": "ich",
                "kind": "multi_label",
                "labels": list(LABELS),
                "slice_level": True,
                "aggregation": "max over slices",
                "description": "per-slice probabilities of any ICH and each subtype",
            }
        ],
        "positive_label": "any",
        "probability": "per label: max over slices of the per-slice probability (sigmoid of "
        "sequence model 2, averaged over ensemble members)",
        "operating_points": {
            "default": {
                "threshold": 0.5,
                "rule": "0.5 for every label (seeds 002 and 004)",
            }
        },
        "default_operating_point": "default",
        "input": {
            "modality": "CT",
            "body_part": "HEAD",
            "units": "HU",
            "contrast": "none",
            "min_slices": 1,
            "max_slice_thickness_mm": 10.0,
            "array_order": "(z, y, x) with ITK/LPS geometry; slices in geometric order",
            "notes": "non-contrast head CT series; outputs on the input grid",
        },
        "preprocessing": {
            **cfg.to_manifest(),
            "summary": "slices in geometric order; windows brain L40/W80, subdural L80/W200, "
            f"bone L600/W2800 -> 3 channels in [0, 1]; in-plane {cfg.slice_shape[0]}x"
            f"{cfg.slice_shape[1]}, aspect kept, air margin; slice thickness from DICOM "
            "SliceThickness, else the slice spacing",
        },
        "output": {
            "probabilities": True,
            "mask": False,
            "slice_probabilities": True,
            "heatmaps": ["gradcam"],
            "grid": "input series grid",
        },
        "explainers": {"gradcam": gradcam},
        "weights": weights,
        "requirements": {
            "python": ">=3.11",
            "torch": ">=2.8",
            "monai": ">=1.6",
            "device": "cpu",
            "max_memory_gb": 2,
        },
        "training": {
            "synthetic": True,
            "data": f"phantoms.subtype_case, matrix {MATRIX}, thick series; training case "
            f"seeds 0..{tc.n_cases - 1}, normal fraction {NORMAL_FRACTION}; held-out seeds "
            f"{HELD_OUT_SEED}..{HELD_OUT_SEED + tc.n_held_out - 1}",
            "command": f"python -m inference train --model-id {MODEL_ID} --out DIR --threads {tc.threads}",
            "config": {
                "n_cases": tc.n_cases,
                "n_held_out": tc.n_held_out,
                "seed": tc.seed,
                "cnn_epochs": tc.cnn_epochs,
                "seq_epochs": tc.seq_epochs,
                "batch": tc.batch,
                "scan_batch": tc.scan_batch,
                "threads": tc.threads,
            },
            "metrics": {"held_out": metrics, **({"runtime": runtime} if runtime else {})},
        },
    }


def write_bundle(
    out: Path,
    members: Sequence[Member],
    cfg: SliceConfig,
    tc: TrainConfig,
    metrics: dict[str, Any],
    scales: dict[str, float],
    train_seconds: float,
    version: str,
    runtime: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write weights, ``manifest.json`` (validated) and ``README.md``; return the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    weights = []
    for k, member in enumerate(members):
        path = out / f"{member_role(k)}.safetensors"
        save_member(member, path)
        weights.append(
            {
                "role": member_role(k),
                "file": path.name,
                "format": "safetensors",
                "sha256": sha256_file(path),
                "bytes": path.stat().st_size,
            }
        )
    manifest = build_manifest(members, cfg, tc, metrics, scales, weights, version, runtime)
    manifest["training"]["metrics"]["train_seconds"] = round(train_seconds, 1)
    validate_manifest(manifest, str(out / "manifest.json"))
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (out / "README.md").write_text(model_card(manifest))
    return manifest
