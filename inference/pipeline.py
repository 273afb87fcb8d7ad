"""Seed-000 inference: CT -> hematoma mask -> ROI patch -> P(CVST-ICH) -> decisions -> maps.

Everything returned lives on the *input* grid (the DICOM series), resampled from the model
grids with SimpleITK. Deterministic: inference runs with
``torch.use_deterministic_algorithms`` and fixed seeds (restored afterwards), and the only
random explainer (SHAP) draws from a local generator seeded by ``options.seed``.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from . import preprocess as pp
from .device import autocast, device_info, resolve_device
from .explain.common import Attribution
from .geometry import input_image, to_grid
from .manifest import ManifestIdentity, ModelLoadError, load_manifest, verify_weights
from .networks import ARCHITECTURES
from .networks.classifier import CBAMClassifier, build_classifier, build_segmenter
from .networks.unet import UNet3D
from .plugin import PredictOptions, decide, library_versions, load_state, torch_settings
from .preprocess import BBox
from .results import Heatmap, Prediction

__all__ = ["CVSTICHPipeline", "PredictOptions", "library_versions", "load_state", "torch_settings"]


def segment_volume(
    net: UNet3D, ct: np.ndarray, cfg: pp.PreprocessConfig, device: str = "cpu"
) -> np.ndarray:
    """Hematoma probability on the model grid: the whole grid in one pass, or MONAI sliding
    windows (``cfg.seg_window``, overlap 0.25, Gaussian blending) as in the seed's code.
    Mixed precision on CUDA (``device.autocast``)."""
    x = torch.from_numpy(np.ascontiguousarray(ct, dtype=np.float32))[None, None].to(device)
    with torch.inference_mode(), autocast(device):
        if cfg.seg_window and tuple(cfg.seg_window) != tuple(ct.shape):
            from monai.inferers import sliding_window_inference

            logits = cast(  # one output head: a tensor, not a tuple or dict
                torch.Tensor,
                sliding_window_inference(x, cfg.seg_window, 1, net, overlap=0.25, mode="gaussian"),
            )
        else:
            logits = net(x)
        return torch.sigmoid(logits.float())[0, 0].cpu().numpy()


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
        self.labels = tuple(lbl["name"] for lbl in manifest["labels"])
        self.positive = manifest["positive_label"]
        self.negative = next(lbl for lbl in self.labels if lbl != self.positive)
        self.thresholds: dict[str, float | dict[str, float]] = {
            k: v["thresholds"] if "thresholds" in v else float(v["threshold"])
            for k, v in manifest["operating_points"].items()
        }
        self.default_op = manifest["default_operating_point"]
        self.device = "cpu"

    @classmethod
    def from_bundle(cls, bundle_dir: str | Path) -> CVSTICHPipeline:
        bundle_dir = Path(bundle_dir)
        manifest = load_manifest(bundle_dir)
        arch = manifest["architecture"]
        if arch["name"] not in ARCHITECTURES:
            raise ModelLoadError(f"architecture {arch['name']!r} is not allow-listed")
        paths = verify_weights(bundle_dir, manifest)
        segmenter = build_segmenter(arch["networks"]["segmentation"])
        classifier = build_classifier(arch["networks"]["classifier"])
        nets: dict[str, torch.nn.Module] = {"segmentation": segmenter, "classifier": classifier}
        for role, net in nets.items():
            if role not in paths:
                raise ModelLoadError(f"manifest lists no weights with role '{role}'")
            try:
                net.load_state_dict(load_state(paths[role]), strict=True)
            except RuntimeError as exc:
                raise ModelLoadError(
                    f"weights {paths[role].name} do not fit architecture.networks.{role}: {exc}"
                ) from exc
        sha = {w["role"]: w["sha256"] for w in manifest["weights"]}
        return cls(manifest, segmenter, classifier, sha)

    # -- stages -----------------------------------------------------------------------------
    def to(self, device: str) -> CVSTICHPipeline:
        """Move both networks to ``device`` (a resolved name, see ``device.resolve_device``)."""
        if device != self.device:
            self.segmenter.to(device)
            self.classifier.to(device)
            self.device = device
        return self

    def segment(self, ct: np.ndarray) -> np.ndarray:
        return segment_volume(self.segmenter, ct, self.cfg, self.device)

    def classify(self, patch: torch.Tensor) -> float:
        """Logit of P(CVST-ICH) for a (1, 2, z, y, x) patch (mixed precision on CUDA)."""
        with torch.inference_mode(), autocast(self.device):
            return float(self.classifier(patch.to(self.device))[0].float())

    def decide(self, p: float) -> dict[str, dict[str, int]]:
        """``{operating point: {positive label: 0 or 1}}`` (``plugin.decide``)."""
        return decide(self._manifest, {self.positive: p})

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
        raise ValueError(f"unknown explainer {method!r}; available: {self.explainers}")

    @property
    def explainers(self) -> list[str]:
        """The manifest's explainers (what ``options.explain`` may name)."""
        return list(self._manifest["explainers"])

    def segmentation_mask(
        self, volume: Any, geometry: Any = None, options: object = None
    ) -> np.ndarray:
        """The hematoma mask on the input grid, exactly ``predict(...).mask``, from the
        segmentation stage alone (no classifier, no explainers): for callers that need only
        the ROI. ``volume``/``geometry``/``options`` as in :meth:`predict`."""
        opts = PredictOptions.coerce(options)
        opts = dataclasses.replace(opts, device=resolve_device(opts.device))
        self.to(opts.device)
        with torch_settings(opts.threads, opts.deterministic, opts.seed):
            prep = pp.prepare(input_image(volume, geometry), self.cfg)
            prob = self.segment(prep.ct)
        mask: np.ndarray = (to_grid(prob, prep.grid, prep.input_grid, "linear", 0.0) >= 0.5).astype(
            np.uint8
        )
        return mask

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
        unknown = [m for m in opts.explain if m not in self.explainers]
        if unknown:
            raise ValueError(
                f"model {self.id} has no explainer(s) {unknown}; its explainers: {self.explainers}"
            )
        opts = dataclasses.replace(opts, device=resolve_device(opts.device))
        self.to(opts.device)
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
            x = torch.from_numpy(patch)[None].to(self.device)
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
            target_sign = 1 if decisions[self.default_op][self.positive] else -1
            bbox_patch = None
            if bbox is not None:
                bbox_patch = (np.asarray(bbox[0]) - start, np.asarray(bbox[1]) - start)
            for method in opts.explain:
                t = time.perf_counter()
                params = self.explainer_params(method, opts.explainer_params.get(method))
                attr = self.explain(x, method, params, target_sign, bbox_patch, opts.seed)
                arr = to_grid(attr.array, patch_grid, prep.input_grid, "linear", 0.0)
                heatmap = Heatmap(
                    method=method,
                    label=self.positive,
                    array=arr.astype(np.float16),
                    signed=attr.signed,
                    params=attr.params,
                    passes={"forward": attr.forward_passes, "backward": attr.backward_passes},
                    seconds=attr.seconds,
                    extras=attr.extras,
                )
                heatmaps[heatmap.key] = heatmap
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
                h.method: {**h.passes, "seconds": round(h.seconds, 3)} for h in heatmaps.values()
            },
            "logit": logit,
            "torch_threads": threads,
            **device_info(self.device),
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
            positive_label=self.positive,
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
