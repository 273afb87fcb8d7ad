"""A seed-001 DLRN output as its plug-in writes ``result.json``, stored through the runner's
checks (``readerstudy.ai.interpretation``): the DLR signature and seizure at admission on a
logistic nomogram, standard scaling (the widest beta * x range gets 0-100 points), and the
fused features' importances (Rad and DL, as seed 001's Fig. 3)."""

import hashlib
import math

from readerstudy.ai.interpretation import interpretation_of
from readerstudy.ai.models import InferenceJob, InferenceOutput
from tests.factories import ModelVersionFactory

MODEL_ID = "cvt_hematoma_dlrn"
INTERCEPT, BETA_DLR, BETA_SEIZURE = -4.1, 6.2, 1.9
POINTS_PER_UNIT = 100.0 / BETA_DLR  # points per unit of the linear predictor
FEATURES = [
    ("wavelet-LHL_glszm_SmallAreaEmphasis", 0.61, 0.142),
    ("DL_feature_0412", -0.37, 0.118),
    ("original_shape_Sphericity", -1.12, -0.097),
    ("wavelet-HLH_firstorder_Skewness", 0.88, 0.083),
    ("original_glcm_Idmn", 0.2, -0.061),
    ("DL_feature_0077", 1.4, 0.055),
    ("wavelet-HHH_ngtdm_Busyness", -0.5, 0.031),
]


def dlrn_version():
    return ModelVersionFactory(
        model_id=MODEL_ID,
        version="0.1.0",
        name="CVT-related hematoma DLRN (seed 001)",
        positive_label="cvt_related",
        operating_points={"default": 0.5},
        explainers=[],
        manifest={
            "labels": [
                {"name": "cvt_related", "display": "CVT-related hematoma"},
                {"name": "other", "display": "Other hematoma"},
            ],
            "heads": [
                {
                    "name": "etiology",
                    "kind": "binary",
                    "labels": ["cvt_related", "other"],
                    "positive": "cvt_related",
                }
            ],
        },
    )


def probability_at(total_points: float) -> float:
    return 1.0 / (1.0 + math.exp(-(INTERCEPT + total_points / POINTS_PER_UNIT)))


def _total_at(p: float) -> float:
    return (math.log(p / (1 - p)) - INTERCEPT) * POINTS_PER_UNIT


def dlrn_result(dlr: float = 0.82, seizure: bool = True) -> dict:
    """The result.json keys of one case (``dlr``: the DLR signature's probability)."""
    points = {"dlr_signature": 100.0 * dlr, "seizure_at_admission": 0.0}
    if seizure:
        points["seizure_at_admission"] = BETA_SEIZURE * POINTS_PER_UNIT
    total = sum(points.values())
    p = probability_at(total)
    return {
        "probabilities": {"cvt_related": p},
        "signatures": {"rad": 0.71, "dl": 0.64, "dlr": dlr, "dlrn": p},
        "nomogram": {
            "points": points,
            "values": {"dlr_signature": dlr, "seizure_at_admission": seizure},
        },
        "total_points": total,
        "nomogram_axes": {
            "points": [{"value": float(v), "points": float(v)} for v in range(0, 101, 10)],
            "variables": [
                {
                    "name": "dlr_signature",
                    "ticks": [{"value": v / 10, "points": 10.0 * v} for v in range(11)],
                },
                {
                    "name": "seizure_at_admission",
                    "ticks": [
                        {"value": 0.0, "points": 0.0},
                        {"value": 1.0, "points": BETA_SEIZURE * POINTS_PER_UNIT},
                    ],
                },
            ],
            "total_points": [float(t) for t in range(0, 140, 10)],
            "probability": [
                {"probability": p, "total_points": _total_at(p)}
                for p in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99)
            ],
        },
        "features": [{"name": n, "value": v, "importance": i} for n, v, i in FEATURES],
        "provenance": {"model": {"id": MODEL_ID, "version": "0.1.0"}, "roi_source": "mask"},
    }


def make_dlrn_output(case, version, **kwargs) -> InferenceOutput:
    """A succeeded DLRN job of ``case`` with its output stored as the runner stores it."""
    result = dlrn_result(**kwargs)
    job = InferenceJob.objects.create(
        case=case,
        series=case.primary_series,
        model_version=version,
        params={},
        params_hash=hashlib.sha256(b"{}").hexdigest(),
        status=InferenceJob.Status.SUCCEEDED,
        done=100,
        total=100,
    )
    p = result["probabilities"]["cvt_related"]
    return InferenceOutput.objects.create(
        job=job,
        probabilities=result["probabilities"],
        decisions={"default": {"cvt_related": int(p >= 0.5)}},
        provenance=result["provenance"],
        **interpretation_of(result),
    )
