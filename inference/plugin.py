"""Base class of bundle-backed model plug-ins, and the logic every model shares.

A plug-in subclasses :class:`PluginModel`, implements ``_build`` (networks from the
manifest and the verified weights) and ``_predict(image, opts)``, and gets:

* the bundle's validated manifest (``id``, ``version``, ``manifest()``) without torch;
* weights verified against their sha256 once, before any byte is deserialised;
* the device (``opts.device`` resolved: ``"auto"`` -> CUDA if present; see ``device.py``),
  the networks moved there in eval mode, thread count / determinism / seed for the call;
* :func:`decide`: decisions from the manifest's operating points and heads, the same code
  for every model;
* provenance: model, weights sha256, library versions, timings, device, threads, input.

torch is imported on use: constructing a plug-in (listing models) stays cheap.
"""

from __future__ import annotations

import contextlib
import dataclasses
import platform
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .manifest import (
    ManifestIdentity,
    ModelLoadError,
    label_thresholds,
    load_manifest,
    verify_weights,
)

if TYPE_CHECKING:
    import SimpleITK as sitk
    import torch

    from .geometry import Grid
    from .results import Heatmap, Prediction, Probability


@dataclass
class PredictOptions:
    """Options of one ``predict`` call.

    ``explain``: explainer names (each must be one of the model's manifest ``explainers``);
    ``explain_labels``: restrict maps to these labels (empty: every label the explainer's
    manifest entry covers); ``explainer_params``: per-method overrides of the manifest
    defaults; ``threads``: torch intra-op threads for this call; ``device``: ``auto``,
    ``cpu`` or ``cuda[:N]``; ``covariates`` and ``roi_mask``: inputs of models that take
    clinical data or an ROI (others ignore them)."""

    explain: tuple[str, ...] = ()
    explainer_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    seed: int = 0
    threads: int | None = None
    deterministic: bool = True
    device: str = "auto"
    explain_labels: tuple[str, ...] = ()
    #: clinical covariates by name, for models that use them (e.g. the DLRN's nomogram)
    covariates: dict[str, Any] = field(default_factory=dict)
    #: an ROI mask on the input grid (SimpleITK image or (z, y, x) array), for ROI models
    roi_mask: Any = None

    @classmethod
    def coerce(cls, value: object) -> PredictOptions:
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            data = dict(value)
            for key in ("explain", "explain_labels"):
                if isinstance(data.get(key), str):
                    data[key] = [m.strip() for m in data[key].split(",") if m.strip()]
                data[key] = tuple(data.get(key) or ())
            if data.get("device") is None:
                data.pop("device", None)
            names = {f.name for f in dataclasses.fields(cls)}
            unknown = sorted(set(data) - names)
            if unknown:
                raise TypeError(f"unknown predict option(s) {unknown}; known: {sorted(names)}")
            return cls(**data)
        raise TypeError("options must be None, a dict or PredictOptions")


@contextlib.contextmanager
def torch_settings(threads: int | None, deterministic: bool, seed: int) -> Iterator[None]:
    """Threads, deterministic algorithms and the global seed for one call (restored after)."""
    import torch

    prev = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.get_num_threads(),
    )
    try:
        torch.use_deterministic_algorithms(deterministic, warn_only=True)
        if threads:
            torch.set_num_threads(int(threads))
        torch.manual_seed(seed)
        yield
    finally:
        torch.use_deterministic_algorithms(prev[0], warn_only=prev[1])
        torch.set_num_threads(prev[2])


def library_versions() -> dict[str, str]:
    import captum
    import monai
    import numpy as np
    import safetensors
    import SimpleITK as sitk
    import torch

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "monai": monai.__version__,
        "captum": captum.__version__,
        "SimpleITK": sitk.Version.VersionString(),
        "safetensors": safetensors.__version__,
    }


def load_state(path: Path) -> dict[str, torch.Tensor]:
    """Weights from safetensors only (no pickle; ``torch.load`` is never used)."""
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except Exception as exc:  # safetensors raises its own error types
        raise ModelLoadError(f"cannot read safetensors file {path}: {exc}") from exc


def decide(
    manifest: Mapping[str, Any], probabilities: Mapping[str, Probability]
) -> dict[str, dict[str, int]]:
    """``{operating point: {label: 0 or 1}}`` from the manifest's heads and operating points.

    Binary heads: the positive label's probability >= the threshold. Multi-label heads: each
    label against its threshold. Multi-class heads (``probabilities[head] = {class: p}``):
    one-hot of the most probable class (first in manifest order on ties); thresholds do
    not apply. A head with ``cascade_from`` gets 0 for all its labels where that label's
    decision is 0.
    """
    heads = manifest["heads"]
    missing = [
        key
        for head in heads
        for key in (
            [head["name"]]
            if head["kind"] == "multi_class"
            else [head["positive"]]
            if head["kind"] == "binary"
            else head["labels"]
        )
        if key not in probabilities
    ]
    if missing:
        raise ValueError(f"probabilities lack {missing} (have {sorted(probabilities)})")
    out: dict[str, dict[str, int]] = {}
    for op in manifest["operating_points"]:
        thresholds = label_thresholds(dict(manifest), op)
        decision: dict[str, int] = {}
        for head in heads:
            if head["kind"] == "multi_class":
                dist = probabilities[head["name"]]
                if not isinstance(dist, Mapping):
                    raise ValueError(f"head {head['name']!r} needs a {{class: p}} distribution")
                best = max(head["labels"], key=lambda c: (float(dist[c]), -head["labels"].index(c)))
                values = {c: int(c == best) for c in head["labels"]}
            else:
                scored = [head["positive"]] if head["kind"] == "binary" else head["labels"]
                values = {}
                for lbl in scored:
                    p = probabilities[lbl]
                    if isinstance(p, Mapping):
                        raise ValueError(f"label {lbl!r} needs one probability, got {p!r}")
                    values[lbl] = int(float(p) >= thresholds[lbl])
            decision.update(values)
        for head in heads:  # cascades after every head has its own decision
            src = head.get("cascade_from")
            if src is not None and not decision[src]:
                for key in head["labels"]:
                    if key in decision:
                        decision[key] = 0
        out[op] = decision
    return out


class PluginModel(ManifestIdentity, ABC):
    """A model plug-in backed by a bundle directory (``manifest.json`` + safetensors).

    Subclasses implement :meth:`_build` and :meth:`_predict`; ``self.networks`` holds the
    built networks (on ``self.device``, eval mode) when ``_predict`` runs.
    """

    def __init__(self, bundle_dir: str | Path):
        self.bundle_dir = Path(bundle_dir)
        self._manifest = load_manifest(self.bundle_dir)
        self._paths: dict[str, Path] | None = None
        self.networks: dict[str, torch.nn.Module] = {}
        self.device = "cpu"
        self._lock = threading.RLock()

    # -- manifest views ---------------------------------------------------------------------
    @property
    def label_names(self) -> list[str]:
        return [lbl["name"] for lbl in self._manifest["labels"]]

    @property
    def heads(self) -> list[dict[str, Any]]:
        return list(self._manifest["heads"])

    @property
    def positive_label(self) -> str:
        return str(self._manifest["positive_label"])

    @property
    def weights_sha256(self) -> dict[str, str]:
        return {w["role"]: w["sha256"] for w in self._manifest["weights"]}

    def explainer_labels(self, method: str, wanted: tuple[str, ...] = ()) -> list[str]:
        """Labels ``method`` explains: its manifest ``labels`` ("all" = every label),
        narrowed to ``wanted`` when given."""
        spec = self._manifest["explainers"][method].get("labels", "all")
        labels = self.label_names if spec == "all" else list(spec)
        if wanted:
            unknown = [lbl for lbl in wanted if lbl not in self.label_names]
            if unknown:
                raise ValueError(f"unknown label(s) {unknown}; labels: {self.label_names}")
            labels = [lbl for lbl in labels if lbl in wanted]
        return labels

    def explainer_params(self, method: str, overrides: dict[str, Any] | None) -> dict[str, Any]:
        defaults = self._manifest["explainers"].get(method, {}).get("defaults", {})
        return {**defaults, **(overrides or {})}

    def check_explain(self, methods: tuple[str, ...]) -> None:
        known = list(self._manifest["explainers"])
        unknown = [m for m in methods if m not in known]
        if unknown:
            raise ValueError(
                f"model {self.id} has no explainer(s) {unknown}; its explainers: {known}"
            )

    # -- weights and networks ---------------------------------------------------------------
    def weight_paths(self) -> dict[str, Path]:
        """``{role: path}``, sha256-verified on the first call."""
        with self._lock:
            if self._paths is None:
                self._paths = verify_weights(self.bundle_dir, self._manifest)
            return dict(self._paths)

    def state(self, role: str) -> dict[str, torch.Tensor]:
        """The verified safetensors state dict of weights role ``role``."""
        paths = self.weight_paths()
        if role not in paths:
            raise ModelLoadError(
                f"{self.bundle_dir / 'manifest.json'} lists no weights with role {role!r} "
                f"(roles: {sorted(paths)})"
            )
        return load_state(paths[role])

    @staticmethod
    def load_into(net: torch.nn.Module, state: dict[str, torch.Tensor], role: str) -> None:
        try:
            net.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ModelLoadError(
                f"weights of role {role!r} do not fit architecture.networks.{role}: {exc}"
            ) from exc

    def load(self, device: str = "cpu") -> dict[str, torch.nn.Module]:
        """Build the networks once (``_build``), then move them to ``device``."""
        with self._lock:
            if not self.networks:
                self.networks = {k: n.eval() for k, n in self._build().items()}
            if device != self.device:
                for net in self.networks.values():
                    net.to(device)
                self.device = device
            return self.networks

    @abstractmethod
    def _build(self) -> dict[str, torch.nn.Module]:
        """``{role: network}`` with weights loaded (use :meth:`state` and :meth:`load_into`)."""

    @abstractmethod
    def _predict(self, image: sitk.Image, opts: PredictOptions) -> Prediction:
        """The model on one CT image; ``opts.device`` is resolved, networks are loaded."""

    # -- shared helpers for _predict --------------------------------------------------------
    def decide(self, probabilities: Mapping[str, Probability]) -> dict[str, dict[str, int]]:
        return decide(self._manifest, probabilities)

    def thresholds(self) -> dict[str, float | dict[str, float]]:
        return {
            op: spec["thresholds"] if "thresholds" in spec else float(spec["threshold"])
            for op, spec in self._manifest["operating_points"].items()
        }

    def prediction(
        self,
        grid: Grid,
        probabilities: dict[str, Probability],
        *,
        slice_probabilities: dict[str, list[float]] | None = None,
        heatmaps: dict[str, Heatmap] | None = None,
        mask: Any = None,
        provenance: dict[str, Any] | None = None,
        warnings: list[str] | None = None,
        roi: dict[str, Any] | None = None,
    ) -> Prediction:
        """A :class:`Prediction` with decisions, thresholds and identity filled in."""
        from .results import Prediction

        return Prediction(
            model_id=self.id,
            model_version=self.version,
            positive_label=self.positive_label,
            probabilities=probabilities,
            decisions=self.decide(probabilities),
            thresholds=self.thresholds(),
            heatmaps=dict(heatmaps or {}),
            grid=grid,
            provenance=dict(provenance or {}),
            mask=mask,
            roi=dict(roi or {}),
            slice_probabilities=dict(slice_probabilities or {}),
            warnings=list(warnings or []),
        )

    def provenance(
        self,
        opts: PredictOptions,
        meta: Mapping[str, Any] | None,
        timings: Mapping[str, float],
        grid: Grid | None = None,
        threads: int | None = None,
    ) -> dict[str, Any]:
        from .device import device_info

        out: dict[str, Any] = {
            "model": {"id": self.id, "version": self.version},
            "weights_sha256": self.weights_sha256,
            "libraries": library_versions(),
            "timings_s": {k: round(float(v), 4) for k, v in timings.items()},
            **device_info(opts.device),
            "torch_threads": threads,
            "deterministic": opts.deterministic,
            "seed": opts.seed,
            "input": {"meta": dict(meta or {})},
        }
        if grid is not None:
            out["input"].update(shape_zyx=list(grid.shape), spacing=list(grid.geometry.spacing))
        return out

    # -- the public call --------------------------------------------------------------------
    def predict(
        self,
        volume: Any,
        geometry: Any = None,
        meta: dict[str, Any] | None = None,
        options: object = None,
    ) -> Prediction:
        """Run the model on one CT: an HU array (z, y, x) with ``geometry`` (SimpleITK image,
        Geometry or 4x4 RAS affine), or a SimpleITK image alone. ``meta``: safe series tags,
        echoed into the provenance; ``options``: :class:`PredictOptions` or a dict."""
        import torch

        from .device import resolve_device
        from .geometry import input_image

        opts = PredictOptions.coerce(options)
        self.check_explain(opts.explain)
        opts = dataclasses.replace(opts, device=resolve_device(opts.device))
        t_all = time.perf_counter()
        with torch_settings(opts.threads, opts.deterministic, opts.seed):
            t = time.perf_counter()
            image = input_image(volume, geometry)
            with self._lock:
                self.load(opts.device)
                load_s = time.perf_counter() - t
                pred = self._predict(image, opts)
            threads = torch.get_num_threads()
        timings = {"load_and_input": load_s, **pred.provenance.get("timings_s", {})}
        timings["total"] = time.perf_counter() - t_all
        base = self.provenance(opts, meta, timings, pred.grid, threads)
        own = pred.provenance
        pred.provenance = {
            **base,
            **own,
            "timings_s": base["timings_s"],
            "input": {**base["input"], **own.get("input", {})},
        }
        return pred

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r} {self.version}, {self.bundle_dir})"
