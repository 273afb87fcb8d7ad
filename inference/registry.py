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
BUILTIN = {"cvst_ich_demo": "inference.builtin:cvst_ich_demo"}
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
            m = get_model(model_id).manifest()
            out.append(
                {
                    "id": m["id"],
                    "version": m["version"],
                    "name": m["name"],
                    "entry_point": target,
                    "labels": m["labels"],
                    "positive_label": m["positive_label"],
                    "probability": m["probability"],
                    "operating_points": {
                        k: v["threshold"] for k, v in m["operating_points"].items()
                    },
                    "default_operating_point": m["default_operating_point"],
                    "explainers": {k: v["cost"] for k, v in m["explainers"].items()},
                    "synthetic_training": m["training"]["synthetic"],
                }
            )
        except Exception as exc:  # report, do not crash the listing
            out.append(
                {"id": model_id, "entry_point": target, "error": f"{type(exc).__name__}: {exc}"}
            )
    return out
