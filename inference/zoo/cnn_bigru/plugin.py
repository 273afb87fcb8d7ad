"""The ``ich_subtypes_cnn_bigru`` plug-in: seed 004's CNN + two GRUs on slice stacks."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...explain.gradcam2d import scale_maps
from ...manifest import ModelLoadError
from ...plugin import PluginModel, PredictOptions
from ...results import Heatmap
from ..slices import SliceConfig, parse_thickness, slice_stack

if TYPE_CHECKING:
    import SimpleITK as sitk
    import torch

    from ...results import Prediction

BUNDLE = Path(__file__).resolve().parents[2] / "models" / "ich_subtypes_cnn_bigru"
SCALINGS = ("case", "global")


class CnnBiGRU(PluginModel):
    """Per-slice and per-scan probabilities of any ICH and five subtypes, 2D Grad-CAM."""

    def __init__(self, bundle_dir: str | Path = BUNDLE):
        super().__init__(bundle_dir)
        if self._manifest["architecture"]["name"] != "ich_cnn_bigru_v1":
            raise ModelLoadError(
                f"{self.bundle_dir}: architecture.name must be ich_cnn_bigru_v1, got "
                f"{self._manifest['architecture']['name']!r}"
            )
        self.slice_config = SliceConfig.from_manifest(self._manifest["preprocessing"])
        self._call = threading.local()

    def _build(self) -> dict[str, torch.nn.Module]:
        from .network import Member, MemberConfig

        nets: dict[str, torch.nn.Module] = {}
        for role, cfg in sorted(self._manifest["architecture"]["networks"].items()):
            member = Member(MemberConfig.from_dict(cfg, role))
            self.load_into(member, self.state(role), role)
            nets[role] = member
        return nets

    def predict(
        self,
        volume: Any,
        geometry: Any = None,
        meta: dict[str, Any] | None = None,
        options: object = None,
    ) -> Prediction:
        """See :meth:`PluginModel.predict`; ``meta["SliceThickness"]`` feeds sequence model 2."""
        self._call.thickness = parse_thickness(meta)
        try:
            return super().predict(volume, geometry, meta, options)
        finally:
            self._call.thickness = None

    def _predict(self, image: sitk.Image, opts: PredictOptions) -> Prediction:
        import torch

        from .forward import run_scan
        from .network import Member

        timings: dict[str, float] = {}
        t = time.perf_counter()
        stack = slice_stack(image, self.slice_config, getattr(self._call, "thickness", None))
        timings["preprocess"] = time.perf_counter() - t
        labels = self.label_names
        explain = "gradcam" in opts.explain
        cam_names = self.explainer_labels("gradcam", opts.explain_labels) if explain else []
        params = self.explainer_params("gradcam", opts.explainer_params.get("gradcam"))
        scaling = str(params.get("scaling", "case"))
        if scaling not in SCALINGS:
            raise ValueError(f"gradcam scaling must be one of {SCALINGS}, got {scaling!r}")
        members = [m for m in self.networks.values() if isinstance(m, Member)]
        t = time.perf_counter()
        x = torch.from_numpy(stack.images).to(opts.device)
        out = run_scan(
            members,
            x,
            stack.slice_thickness,
            [labels.index(n) for n in cam_names],
            str(params.get("layer")),
            int(params.get("batch_size", 64)),
        )
        timings["network"] = time.perf_counter() - t
        per_slice = stack.to_input_order(out.final)  # (z, 6) in input slice order
        probabilities: dict[str, Any] = {
            n: float(per_slice[:, k].max()) for k, n in enumerate(labels)
        }
        slice_probabilities = {n: [float(v) for v in per_slice[:, k]] for k, n in enumerate(labels)}
        heatmaps: dict[str, Heatmap] = {}
        if explain:
            t = time.perf_counter()
            n_cam = max(len(cam_names), 1)
            for name in cam_names:
                raw = out.cams[labels.index(name)]
                scale = None
                if scaling == "global":
                    scale = float(params["global_scale"][name])
                scaled, used = scale_maps(raw, scale)
                heatmaps[f"gradcam_{name}"] = Heatmap(
                    method="gradcam",
                    label=name,
                    array=stack.to_input_grid(scaled).clip(0, 1).astype(np.float16),
                    signed=False,
                    params={"layer": out.layer, "scaling": scaling, "scale": used},
                    passes={
                        "forward": out.forward_passes,
                        "backward": out.backward_passes // n_cam,
                    },
                    seconds=timings["network"] / n_cam,
                )
            timings["gradcam_to_input_grid"] = time.perf_counter() - t
        provenance = {
            "timings_s": timings,
            "slices": {
                "n": stack.n,
                "thickness_mm": stack.slice_thickness,
                "spacing_mm": stack.slice_spacing,
                "pixel_mm": stack.pixel_mm,
                "members": len(members),
            },
        }
        return self.prediction(
            stack.input_grid,
            probabilities,
            slice_probabilities=slice_probabilities,
            heatmaps=heatmaps,
            provenance=provenance,
        )


def load() -> CnnBiGRU:
    """The registry's entry point: the shipped bundle."""
    return CnnBiGRU()
