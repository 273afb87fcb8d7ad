"""The bundle's manifest (schema 2.0) for the joint CNN-RNN."""

from __future__ import annotations

from typing import Any

from ..labels import DISPLAY, SUBTYPES
from ..slices import SliceConfig
from .network import CNNRNN3D, NetworkConfig

SUBTYPE_LABELS = SUBTYPES
THRESHOLD = 0.5


def build_manifest(
    model_id: str,
    version: str,
    config: SliceConfig,
    net_config: NetworkConfig,
    weights: dict[str, Any],
    training: dict[str, Any],
) -> dict[str, Any]:
    n_params = sum(p.numel() for p in CNNRNN3D(net_config).parameters())
    h, w = config.slice_shape
    return {
        "schema_version": "2.0",
        "id": model_id,
        "version": version,
        "name": "ICH and five subtypes, seed-002 joint CNN-RNN (small variant, synthetic data)",
        "description": (
            "A 2D CNN (MONAI ResNet) per slice and a bidirectional GRU over the slice sequence, "
            "trained end to end with subject- and slice-level labels; subject-level and "
            "slice-level probabilities of any ICH and five subtypes; subtype decisions only for "
            "subjects called ICH-positive (cascade). Trained on synthetic phantoms only: not a "
            "medical device; never for patient care."
        ),
        "license": "Apache-2.0",
        "authors": ["readerstudy contributors"],
        "citation": (
            "Architecture after Ye et al., Eur Radiol 2019 (doi 10.1007/s00330-019-06163-2): "
            "re-implemented from the paper's description, weights not theirs."
        ),
        "intended_use": "software testing and reader-study demonstrations",
        "task": "classification",
        "architecture": {
            "name": "ich_cnn_rnn3d_v1",
            "variant": "small",
            "parameters": {"cnn_rnn": n_params},
            "networks": {"cnn_rnn": {**net_config.to_dict(), "backbone": "monai ResNet basic 2D"}},
        },
        "labels": [{"name": k, "display": v} for k, v in DISPLAY.items()],
        "heads": [
            {
                "name": "ich",
                "kind": "binary",
                "labels": ["any"],
                "positive": "any",
                "slice_level": True,
                "aggregation": "subject level: GRU outputs max-pooled over slices, then linear",
            },
            {
                "name": "subtypes",
                "kind": "multi_label",
                "labels": list(SUBTYPE_LABELS),
                "slice_level": True,
                "aggregation": "subject level: GRU outputs max-pooled over slices, then linear",
                "cascade_from": "any",
            },
        ],
        "positive_label": "any",
        "probability": (
            "P(label): sigmoid of the subject-level logit; slice probabilities: sigmoid of each "
            "GRU step's logit"
        ),
        "operating_points": {
            "default": {
                "threshold": THRESHOLD,
                "rule": "seed 002: probability >= 0.5 is positive; subtype decisions are 0 "
                "when the any-ICH decision is 0",
            }
        },
        "default_operating_point": "default",
        "input": {
            "modality": "CT",
            "body_part": "HEAD",
            "units": "HU",
            "contrast": "none",
            "min_slices": 4,
            "max_slice_thickness_mm": 10.0,
            "array_order": "(z, y, x) with ITK/LPS geometry; slices in geometric order",
            "notes": "non-contrast head CT series; outputs are returned on the input grid",
        },
        "preprocessing": {
            **config.to_manifest(),
            "summary": (
                f"every slice kept (no resampling across slices), in-plane resampled to {h}x{w} "
                "(aspect kept, air margin); three windows as channels: brain L40/W80, subdural "
                "L80/W200, bone L600/W2800 (seed 002 does not give its windows; these are seed "
                "004's), each to [0, 1]"
            ),
        },
        "output": {
            "probabilities": True,
            "mask": False,
            "slice_probabilities": True,
            "heatmaps": ["gradcam"],
            "grid": "input series grid",
        },
        "explainers": {
            "gradcam": {
                "cost": "fast",
                "signed": False,
                "labels": "all",
                "defaults": {"layer": CNNRNN3D.GRADCAM_LAYER},
                "description": (
                    "2D Grad-CAM on every slice at the CNN's last convolutional stage; target: "
                    "the sum of the label's slice logits over the scan (the GRU mixes slices)"
                ),
            }
        },
        "weights": [weights],
        "requirements": {
            "python": ">=3.11",
            "torch": ">=2.8",
            "monai": ">=1.6",
            "device": "cpu",
            "max_memory_gb": 2,
        },
        "training": training,
    }
