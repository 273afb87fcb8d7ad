"""Framework-free inference for readerstudy (seed 000: CVST-ICH vs sICH on head CT).

This module stays light (no torch at import time): the web process may import
``inference.registry`` / ``inference.manifest`` to list models. Heavy parts (networks,
pipeline, explainers, training) are imported on use.

    from inference import get_model
    model = get_model()                       # the shipped demo model
    pred = model.predict(sitk_image)          # or predict(volume_zyx, geometry)
    pred.probabilities["cvst_ich"], pred.decisions, pred.mask, pred.heatmaps
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .registry import ModelPlugin

__version__ = "0.1.0"

__all__ = ["get_model", "list_models", "__version__"]


def get_model(model_id: str | None = None) -> ModelPlugin:
    from .registry import get_model as _get

    return _get(model_id)


def list_models() -> list[dict[str, Any]]:
    from .registry import list_models as _list

    return _list()
