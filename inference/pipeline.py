"""Seed-000 inference: CT -> hematoma mask -> ROI patch -> P(CVST-ICH) -> decisions -> maps.

Everything returned lives on the *input* grid (the DICOM series), resampled from the model
grids with SimpleITK. Deterministic: inference runs with
``torch.use_deterministic_algorithms`` and fixed seeds (restored afterwards), and the only
random explainer (SHAP) draws from a local generator seeded by ``options.seed``.
"""

from __future__ import annotations

import contextlib
import platform
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from . import preprocess as pp
from .explain import EXPLAINERS
from .explain.common import Attribution
from .geometry import input_image, to_grid
from .manifest import ManifestIdentity, ModelLoadError, load_manifest, verify_weights
from .networks import ARCHITECTURES
from .networks.classifier import CBAMClassifier, build_classifier, build_segmenter
from .networks.unet import UNet3D
from .preprocess import BBox
from .results import Heatmap, Prediction


@dataclass
class PredictOptions:
    """``explain``: methods to run (subset of ``EXPLAINERS``); ``explainer_params``: per-method
    overrides of the manifest defaults; ``threads``: torch intra-op threads for this call."""

    explain: tuple[str, ...] = ()
    explainer_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    seed: int = 0
    threads: int | None = None
    deterministic: bool = True

    @classmethod
    def coerce(cls, value: object) -> PredictOptions:
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            data = dict(value)
            if isinstance(data.get("explain"), str):
                data["explain"] = [m for m in data["explain"].split(",") if m]
            data["explain"] = tuple(data.get("explain", ()))
            return cls(**data)
        raise TypeError("options must be None, a dict or PredictOptions")


@contextlib.contextmanager
def torch_settings(threads: int | None, deterministic: bool, seed: int) -> Iterator[None]:
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
    import safetensors
    import SimpleITK as sitk

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


def segment_volume(net: UNet3D, ct: np.ndarray, cfg: pp.PreprocessConfig) -> np.ndarray:
    """Hematoma probability on the model grid: the whole grid in one pass, or MONAI sliding
    windows (``cfg.seg_window``, overlap 0.25, Gaussian blending) as in the seed's code."""
    x = torch.from_numpy(np.ascontiguousarray(ct, dtype=np.float32))[None, None]
    with torch.inference_mode():
        if cfg.seg_window and tuple(cfg.seg_window) != tuple(ct.shape):
            from monai.inferers import sliding_window_inference

            logits = cast(  # one output head: a tensor, not a tuple or dict
                torch.Tensor,
                sliding_window_inference(x, cfg.seg_window, 1, net, overlap=0.25, mode="gaussian"),
            )
        else:
            logits = net(x)
        return torch.sigmoid(logits)[0, 0].numpy()


class CVSTICHPipeline(ManifestIdentity):
    """The loaded two-stage model (segmenter + classifier) of one bundle."""

    def __init__(
        self,
        manifest: dict[str, Any],
        segmenter: UNet3D,
        classifier: CBAMClassifier,
        weights_sha256: dict[str, str] | None = None,
    ):
        self._manifest = manifest
        self.segmenter = segmenter.eval()
        self.classifier = classifier.eval()
        self.weights_sha256 = weights_sha256 or {}
        self.cfg = pp.PreprocessConfig.from_dict(manifest["preprocessing"])
        self.labels = tuple(manifest["labels"])
        self.positive = manifest["positive_label"]
        self.negative = next(lbl for lbl in self.labels if lbl != self.positive)
        self.thresholds = {
            k: float(v["threshold"]) for k, v in manifest["operating_points"].items()
        }
        self.default_op = manifest["default_operating_point"]

    @classmethod
    def from_bundle(cls, bundle_dir: str | Path) -> CVSTICHPipeline:
        bundle_dir = Path(bundle_dir)
        manifest = load_manifest(bundle_dir)
        arch = manifest["architecture"]
        if arch["name"] not in ARCHITECTURES:
            raise ModelLoadError(f"architecture {arch['name']!r} is not allow-listed")
        paths = verify_weights(bundle_dir, manifest)
        segmenter = build_segmenter(arch["segmentation"])
        classifier = build_classifier(arch["classifier"])
        nets: dict[str, torch.nn.Module] = {"segmentation": segmenter, "classifier": classifier}
        for role, net in nets.items():
            if role not in paths:
                raise ModelLoadError(f"manifest lists no weights with role '{role}'")
            try:
                net.load_state_dict(load_state(paths[role]), strict=True)
            except RuntimeError as exc:
                raise ModelLoadError(
                    f"weights {paths[role].name} do not fit architecture.{role}: {exc}"
                ) from exc
        sha = {w["role"]: w["sha256"] for w in manifest["weights"]}
        return cls(manifest, segmenter, classifier, sha)

    # -- stages -----------------------------------------------------------------------------
    def segment(self, ct: np.ndarray) -> np.ndarray:
        return segment_volume(self.segmenter, ct, self.cfg)

    def classify(self, patch: torch.Tensor) -> float:
        """Logit of P(CVST-ICH) for a (1, 2, z, y, x) patch."""
        with torch.inference_mode():
            return float(self.classifier(patch)[0])

    def decide(self, p: float) -> dict[str, str]:
        return {op: self.positive if p >= t else self.negative for op, t in self.thresholds.items()}

    def explainer_params(self, method: str, overrides: dict[str, Any] | None) -> dict[str, Any]:
        defaults = self._manifest["explainers"].get(method, {}).get("defaults", {})
        return {**defaults, **(overrides or {})}

    def explain(
        self,
        x: torch.Tensor,
        method: str,
        params: dict[str, Any],
        target_sign: int,
        bbox: BBox | None,
        seed: int,
    ) -> Attribution:
        if method == "gradcampp":
            from .explain.gradcampp import gradcampp

            return gradcampp(self.classifier, x, target_sign=target_sign, **params)
        if method == "ig":
            from .explain.ig import integrated_gradients

            return integrated_gradients(self.classifier, x, **params)
        if method == "shap":
            from .explain.shap import expected_gradients

            params = {"seed": seed, **params}
            if "background" in params and isinstance(params["background"], list):
                params["background"] = tuple(params["background"])
            return expected_gradients(self.classifier, x, **params)
        if method == "occlusion":
            from .explain.occlusion import occlusion

            return occlusion(self.classifier, x, bbox=bbox, **params)
        if method == "cbam":
            from .explain.cbam import cbam_attention

            return cbam_attention(self.classifier, x, **params)
        raise ValueError(f"unknown explainer {method!r}; available: {EXPLAINERS}")

    # -- the public call --------------------------------------------------------------------
    def predict(
        self,
        volume: Any,
        geometry: Any = None,
        meta: dict[str, Any] | None = None,
        options: object = None,
    ) -> Prediction:
        """Run the model on one CT.

        ``volume``: HU array (z, y, x) with ``geometry`` (SimpleITK image, Geometry or 4x4 RAS
        affine), or a SimpleITK image alone. ``meta``: safe series tags, echoed into the
        provenance. ``options``: :class:`PredictOptions` or a dict.
        """
        opts = PredictOptions.coerce(options)
        unknown = [m for m in opts.explain if m not in EXPLAINERS]
        if unknown:
            raise ValueError(f"unknown explainer(s) {unknown}; available: {list(EXPLAINERS)}")
        timings: dict[str, float] = {}
        warnings: list[str] = []
        t_all = time.perf_counter()
        with torch_settings(opts.threads, opts.deterministic, opts.seed):
            t = time.perf_counter()
            image = input_image(volume, geometry)
            prep = pp.prepare(image, self.cfg)
            timings["preprocess"] = time.perf_counter() - t

            t = time.perf_counter()
            prob = self.segment(prep.ct)
            mask = (prob >= self.cfg.mask_threshold).astype(np.uint8)
            timings["segmentation"] = time.perf_counter() - t

            t = time.perf_counter()
            patch, start, bbox = pp.roi_patch(self.cfg, prep.ct, mask)
            if bbox is None:
                warnings.append("no hematoma segmented: ROI patch centred on the head")
            patch_grid = prep.grid.subgrid(start, self.cfg.patch_shape)
            x = torch.from_numpy(patch)[None]
            logit = self.classify(x)
            p = float(1.0 / (1.0 + np.exp(-logit)))
            decisions = self.decide(p)
            timings["classification"] = time.perf_counter() - t

            t = time.perf_counter()
            mask_in = (to_grid(prob, prep.grid, prep.input_grid, "linear", 0.0) >= 0.5).astype(
                np.uint8
            )
            timings["mask_to_input_grid"] = time.perf_counter() - t

            heatmaps: dict[str, Heatmap] = {}
            target_sign = 1 if decisions[self.default_op] == self.positive else -1
            bbox_patch = None
            if bbox is not None:
                bbox_patch = (np.asarray(bbox[0]) - start, np.asarray(bbox[1]) - start)
            for method in opts.explain:
                t = time.perf_counter()
                params = self.explainer_params(method, opts.explainer_params.get(method))
                attr = self.explain(x, method, params, target_sign, bbox_patch, opts.seed)
                arr = to_grid(attr.array, patch_grid, prep.input_grid, "linear", 0.0)
                heatmaps[method] = Heatmap(
                    method=method,
                    array=arr.astype(np.float16),
                    signed=attr.signed,
                    params=attr.params,
                    passes={"forward": attr.forward_passes, "backward": attr.backward_passes},
                    seconds=attr.seconds,
                    extras=attr.extras,
                )
                timings[f"explain_{method}"] = time.perf_counter() - t
            threads = torch.get_num_threads()
        timings["total"] = time.perf_counter() - t_all

        in_grid = prep.input_grid
        voxel_ml = in_grid.geometry.voxel_volume / 1000.0
        roi = {
            "segmented": bbox is not None,
            "hematoma_volume_ml": round(float(mask_in.sum()) * voxel_ml, 3),
            "model_grid": {
                "shape_zyx": list(prep.grid.shape),
                "spacing": list(prep.grid.geometry.spacing),
                "origin": list(prep.grid.geometry.origin),
            },
            "bbox_model_grid": None
            if bbox is None
            else {"start": [int(v) for v in bbox[0]], "stop": [int(v) for v in bbox[1]]},
            "patch_start_model_grid": [int(v) for v in start],
            "patch_shape": list(self.cfg.patch_shape),
            "patch_origin": list(patch_grid.geometry.origin),
        }
        provenance = {
            "model": {"id": self.id, "version": self.version},
            "weights_sha256": dict(self.weights_sha256),
            "libraries": library_versions(),
            "timings_s": {k: round(v, 4) for k, v in timings.items()},
            "explainer_passes": {
                k: {**h.passes, "seconds": round(h.seconds, 3)} for k, h in heatmaps.items()
            },
            "logit": logit,
            "torch_threads": threads,
            "deterministic": opts.deterministic,
            "seed": opts.seed,
            "preprocessing": self.cfg.to_dict(),
            "input": {
                "shape_zyx": list(in_grid.shape),
                "spacing": list(in_grid.geometry.spacing),
                "meta": dict(meta or {}),
            },
        }
        return Prediction(
            model_id=self.id,
            model_version=self.version,
            probabilities={self.positive: p},
            decisions=decisions,
            thresholds=dict(self.thresholds),
            mask=mask_in,
            heatmaps=heatmaps,
            grid=in_grid,
            roi=roi,
            provenance=provenance,
            warnings=warnings,
        )
