"""The bundle manifest (schema 2.0) of ``cvt_hematoma_dlrn``."""

from __future__ import annotations

from typing import Any

from .deep import ExtractorConfig
from .roi import CROP, SPACING, WINDOW

MODEL_ID = "cvt_hematoma_dlrn"
ARCHITECTURE = "cvt_dlrn_v1"


def build_manifest(
    config: ExtractorConfig,
    weights: list[dict[str, Any]],
    training: dict[str, Any],
    version: str,
    n_params: int,
    threshold: float,
    model_json_sha256: str,
) -> dict[str, Any]:
    level, width = WINDOW
    return {
        "schema_version": "2.0",
        "id": MODEL_ID,
        "version": version,
        "name": "CVT-related vs other hematoma, seed-001 deep-learning radiomics nomogram",
        "description": (
            "PyRadiomics (original + wavelet) and CNN penultimate-layer features of the "
            "hematoma ROI, seed-001 selection, random-forest signatures (Rad, DL, DLR) and a "
            "logistic nomogram of the DLR signature with clinical covariates. Trained on "
            "synthetic phantoms only: not a medical device; never use for patient care."
        ),
        "license": "Apache-2.0",
        "authors": ["readerstudy contributors"],
        "citation": (
            "Pipeline after seed 001 (NECT deep-learning radiomics nomogram, CVT-related "
            "hematoma vs other hematomas); re-implemented, weights not theirs."
        ),
        "intended_use": "software testing and reader-study demonstrations",
        "task": "classification",
        "architecture": {
            "name": ARCHITECTURE,
            "variant": "small",
            "parameters": {"extractor": n_params},
            "networks": {
                "extractor": {"kind": "monai_resnet_2d", **config.to_dict()},
                "estimators": {"file": "model.json", "sha256": model_json_sha256},
            },
        },
        "labels": [
            {"name": "cvt_related", "display": "CVT-related hematoma"},
            {"name": "other", "display": "Other hematoma (HP / CAA / AVM)"},
        ],
        "heads": [
            {
                "name": "etiology",
                "kind": "binary",
                "labels": ["cvt_related", "other"],
                "positive": "cvt_related",
            }
        ],
        "positive_label": "cvt_related",
        "probability": "P(cvt_related): the DLRN (logistic nomogram) probability",
        "operating_points": {
            "youden": {
                "threshold": round(threshold, 6),
                "rule": "Youden index of the DLRN on the training set (seed 001: best ROC point)",
            }
        },
        "default_operating_point": "youden",
        "input": {
            "modality": "CT",
            "body_part": "HEAD",
            "units": "HU",
            "contrast": "none",
            "min_slices": 1,
            "max_slice_thickness_mm": 10.0,
            "array_order": "(z, y, x) with ITK/LPS geometry",
            "notes": (
                "non-contrast head CT with one intraparenchymal hematoma; ROI from a given "
                "mask (options.roi_mask / --mask) or the cvst_ich_demo segmenter; clinical "
                "covariates (options.covariates / --covariates) named by the nomogram"
            ),
        },
        "preprocessing": {
            "windows": [{"name": "brain", "level": level, "width": width}],
            "slice_shape": [CROP, CROP],
            "normalisation": "unit",
            "spacing_mm": list(SPACING),
            "summary": (
                f"ROI image and mask resampled to {SPACING[0]} x {SPACING[1]} x {SPACING[2]} mm "
                "(B-spline / nearest, PyRadiomics); radiomics per radiomics.yaml; the axial "
                f"slice with the largest ROI area, {CROP} x {CROP} crop at 0.5 mm, brain window"
            ),
        },
        "output": {
            "probabilities": True,
            "mask": False,
            "heatmaps": [],
            "grid": "input series grid",
        },
        "explainers": {},
        "weights": weights,
        "requirements": {
            "python": ">=3.11",
            "torch": ">=2.8",
            "monai": ">=1.6",
            "pyradiomics": "==3.0.1",
            "scikit-learn": ">=1.5",
            "skops": ">=0.11",
            "device": "cpu",
            "max_memory_gb": 2,
        },
        "training": training,
    }
