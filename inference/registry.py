"""Model discovery through the ``readerstudy.models`` entry-point group.

An entry point's name is the model id; its target is a zero-argument callable (factory or
class) returning a plug-in object with ``id``, ``manifest() -> dict`` and
``predict(volume, geometry=None, meta=None, options=None)``. Plug-ins are installed
packages; nothing is ever loaded from an upload.

The built-in demo model is also registered here directly, so it works before the project
is (re)installed with its entry point.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .results import Prediction

GROUP = "readerstudy.models"
BUILTIN = {
    "cvst_ich_demo": "inference.builtin:cvst_ich_demo",
    "ich_subtypes_cnn_bigru": "inference.zoo.cnn_bigru.plugin:load",
    "ich_subtypes_cnn_rnn3d": "inference.zoo.cnn_rnn3d.plugin:load",
    "ich_location_dtvit": "inference.zoo.dtvit.plugin:load",
    "cvt_hematoma_dlrn": "inference.zoo.dlrn.plugin:load",
}
DEFAULT_MODEL = "cvst_ich_demo"


class RegistryError(LookupError):
    pass


class ModelPlugin(Protocol):
    """What an entry point's callable returns (see the module docstring)."""

    @property
    def id(self) -> str: ...

    def manifest(self) -> dict[str, Any]: ...

    def predict(
        self, volume: Any, geometry: Any = None, meta: Any = None, options: Any = None
    ) -> Prediction: ...


def discover() -> dict[str, str]:
    """``{model_id: "module:attr"}`` from the built-ins and the installed entry points."""
    found = dict(BUILTIN)
    for ep in entry_points(group=GROUP):
        if ep.name in found and found[ep.name] != ep.value:
            raise RegistryError(
                f"model id {ep.name!r} is registered twice: {found[ep.name]!r} and {ep.value!r}"
            )
        found[ep.name] = ep.value
    return found


def _resolve(target: str) -> Any:
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def get_model(model_id: str | None = None) -> ModelPlugin:
    """Instantiate the plug-in registered as ``model_id`` (default: the demo model)."""
    model_id = model_id or DEFAULT_MODEL
    models = discover()
    if model_id not in models:
        raise RegistryError(f"unknown model {model_id!r}; available: {sorted(models)}")
    plugin: ModelPlugin = _resolve(models[model_id])()
    if plugin.manifest()["id"] != model_id:
        raise RegistryError(
            f"entry point {model_id!r} returned a model whose manifest id is "
            f"{plugin.manifest()['id']!r}"
        )
    return plugin


def list_models() -> list[dict[str, Any]]:
    """One summary per registered model; a broken plug-in is listed with its error."""
    out = []
    for model_id, target in sorted(discover().items()):
        try:
            out.append(summary(get_model(model_id).manifest(), target))
        except Exception as exc:  # report, do not crash the listing
            out.append(
                {"id": model_id, "entry_point": target, "error": f"{type(exc).__name__}: {exc}"}
            )
    return out


def operating_point_thresholds(manifest: dict[str, Any]) -> dict[str, float | dict[str, float]]:
    """``{operating point: threshold}``, or ``{label: threshold}`` where it is per label."""
    return {
        k: dict(v["thresholds"]) if "thresholds" in v else float(v["threshold"])
        for k, v in manifest["operating_points"].items()
    }


def summary(m: dict[str, Any], target: str) -> dict[str, Any]:
    """What ``list-models`` shows of one manifest."""
    return {
        "id": m["id"],
        "version": m["version"],
        "name": m["name"],
        "entry_point": target,
        "architecture": m["architecture"]["name"],
        "labels": [dict(lbl) for lbl in m["labels"]],
        "heads": [{"slice_level": False, **h} for h in m["heads"]],
        "slice_level": any(h.get("slice_level", False) for h in m["heads"]),
        "positive_label": m["positive_label"],
        "probability": m["probability"],
        "operating_points": operating_point_thresholds(m),
        "default_operating_point": m["default_operating_point"],
        "explainers": {k: v["cost"] for k, v in m["explainers"].items()},
        "outputs": {
            "mask": m["output"]["mask"],
            "slice_probabilities": m["output"].get("slice_probabilities", False),
            "heatmaps": list(m["output"]["heatmaps"]),
        },
        "device": m.get("requirements", {}).get("device", "cpu"),
        "synthetic_training": m["training"]["synthetic"],
    }
