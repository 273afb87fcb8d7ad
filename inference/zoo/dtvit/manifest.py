"""The bundle manifest (schema 2.0) of ``ich_location_dtvit``."""

from __future__ import annotations

from typing import Any

from ..slices import SliceConfig
from .aggregate import AGGREGATION_ICH, AGGREGATION_LOCATION
from .network import LOCATIONS, DTViTConfig

MODEL_ID = "ich_location_dtvit"
DISPLAY = {"ich": "ICH present", "deep": "Deep", "lobar": "Lobar", "subtentorial": "Subtentorial"}
ROLLOUT_DEFAULTS = {"head_fusion": "mean", "residual": 0.5}


def build_manifest(
    config: DTViTConfig,
    slices: SliceConfig,
    weights: list[dict[str, Any]],
    training: dict[str, Any],
    version: str,
    n_params: int,
) -> dict[str, Any]:
    h, w = slices.slice_shape
    return {
        "schema_version": "2.0",
        "id": MODEL_ID,
        "version": version,
        "name": "ICH and haematoma location, seed-003 dual-task ViT (small, synthetic data)",
        "description": (
            "A ViT encoder on 2D slices with two MLP heads: ICH present, and the haematoma's "
            "location (deep / lobar / subtentorial). Trained on synthetic phantoms only: a "
            "demonstration model, not a medical device; never use for patient care."
        ),
        "license": "Apache-2.0",
        "authors": ["readerstudy contributors"],
        "citation": (
            "Architecture after Fan, Fan and Lu, 'Dual-Task Vision Transformer for ICH and "
            "hematoma location classification' (preprint); re-implemented, weights not theirs."
        ),
        "intended_use": "software testing and reader-study demonstrations",
        "task": "classification",
        "architecture": {
            "name": "ich_dtvit_v1",
            "variant": "small",
            "parameters": {"dtvit": n_params},
            "networks": {"dtvit": config.to_dict()},
        },
        "labels": [{"name": n, "display": DISPLAY[n]} for n in ("ich", *LOCATIONS)],
        "heads": [
            {
                "name": "ich",
                "kind": "binary",
                "labels": ["ich"],
                "positive": "ich",
                "slice_level": True,
                "aggregation": AGGREGATION_ICH,
            },
            {
                "name": "location",
                "kind": "multi_class",
                "labels": list(LOCATIONS),
                "slice_level": True,
                "aggregation": AGGREGATION_LOCATION,
            },
        ],
        "positive_label": "ich",
        "probability": (
            "P(ich): sigmoid of the ICH head, max over slices; location: softmax of the "
            "location head per slice, aggregated as the heads' aggregation says"
        ),
        "operating_points": {
            "default": {
                "threshold": 0.5,
                "rule": "fixed at 0.5 (seed 003 reports no operating point)",
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
            "array_order": "(z, y, x) with ITK/LPS geometry; any orientation, tilted gantry included",
            "notes": "non-contrast head CT series; each slice is classified on its own",
        },
        "preprocessing": {
            **slices.to_manifest(),
            "summary": (
                f"each slice in geometric order: resampled in-plane onto {h}x{w} square pixels "
                "holding the field of view (anti-aliased), three CT windows as RGB (brain "
                "L40/W80, subdural L80/W200, bone L600/W2800), ImageNet mean/std"
            ),
        },
        "output": {
            "probabilities": True,
            "mask": False,
            "slice_probabilities": True,
            "heatmaps": ["attention"],
            "grid": "input series grid",
        },
        "explainers": {
            "attention": {
                "cost": "fast",
                "signed": False,
                "labels": "all",
                "defaults": dict(ROLLOUT_DEFAULTS),
                "description": (
                    "attention rollout (Abnar & Zuidema 2020) of the class token per slice, "
                    "upsampled bilinearly; class-agnostic: every label gets the same map"
                ),
            }
        },
        "weights": weights,
        "requirements": {
            "python": ">=3.11",
            "torch": ">=2.8",
            "monai": ">=1.6",
            "einops": ">=0.8",
            "device": "cpu",
            "max_memory_gb": 2,
        },
        "training": training,
    }
