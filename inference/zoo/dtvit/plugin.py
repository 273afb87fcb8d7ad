"""The ``ich_location_dtvit`` plug-in: seed 003's dual-task ViT on each slice of a series.

Outputs: P(ich) per slice and per scan (max over slices), the location distribution per
slice and per scan (see :mod:`.aggregate`), and on request the attention rollout of every
slice (:mod:`inference.explain.rollout`) on the input grid, one map per label (the rollout is
class-agnostic, so all labels get the same map).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ...manifest import ModelLoadError
from ...plugin import PluginModel, PredictOptions
from ...results import Heatmap
from ..slices import SliceConfig, slice_stack
from .aggregate import scan_ich, scan_location
from .network import LOCATIONS

if TYPE_CHECKING:
    import SimpleITK as sitk
    import torch

    from ...results import Prediction, Probability

BUNDLE = Path(__file__).resolve().parents[2] / "models" / "ich_location_dtvit"
ROLE = "dtvit"


class DualTaskViT(PluginModel):
    def __init__(self, bundle_dir: str | Path = BUNDLE):
        super().__init__(bundle_dir)
        name = self._manifest["architecture"]["name"]
        if name != "ich_dtvit_v1":
            raise ModelLoadError(
                f"{self.bundle_dir}: architecture.name must be ich_dtvit_v1, got {name!r}"
            )
        self.slice_config = SliceConfig.from_manifest(self._manifest["preprocessing"])

    def _build(self) -> dict[str, torch.nn.Module]:
        from .network import DTViT, DTViTConfig

        config = DTViTConfig.from_dict(self._manifest["architecture"]["networks"][ROLE])
        if self.slice_config.slice_shape != (config.img_size, config.img_size):
            raise ModelLoadError(
                f"preprocessing.slice_shape {list(self.slice_config.slice_shape)} does not match "
                f"architecture.networks.{ROLE}.img_size {config.img_size}"
            )
        net = DTViT(config)
        self.load_into(net, self.state(ROLE), ROLE)
        return {ROLE: net}

    def _predict(self, image: sitk.Image, opts: PredictOptions) -> Prediction:
        import torch
        import torch.nn.functional as F

        from ...explain.rollout import cls_rollout
        from .network import DTViT

        net = self.networks[ROLE]
        assert isinstance(net, DTViT)
        timings: dict[str, float] = {}
        t = time.perf_counter()
        stack = slice_stack(image, self.slice_config)
        timings["preprocess"] = time.perf_counter() - t
        explain = "attention" in opts.explain
        params = self.explainer_params("attention", opts.explainer_params.get("attention"))
        batch = int(params.get("batch_size", 32))
        p_ich, p_loc, maps = [], [], []
        t = time.perf_counter()
        with torch.no_grad():
            for i in range(0, stack.n, batch):
                x = torch.from_numpy(np.ascontiguousarray(stack.images[i : i + batch]))
                ich, loc = net(x.to(opts.device))
                p_ich.append(torch.sigmoid(ich).float().cpu().numpy())
                p_loc.append(torch.softmax(loc.float(), dim=-1).cpu().numpy())
                if explain:
                    grid = cls_rollout(
                        net.attentions(),
                        net.config.patch_grid,
                        str(params.get("head_fusion", "mean")),
                        float(params.get("residual", 0.5)),
                    )
                    up = F.interpolate(
                        grid[:, None].float(),
                        size=self.slice_config.slice_shape,
                        mode="bilinear",
                        align_corners=False,
                    )
                    maps.append(up[:, 0].cpu().numpy())
        timings["network"] = time.perf_counter() - t
        ich_s, loc_s = np.concatenate(p_ich), np.concatenate(p_loc)
        dist = scan_location(ich_s, loc_s)
        probabilities: dict[str, Probability] = {
            "ich": scan_ich(ich_s),
            "location": {c: float(dist[k]) for k, c in enumerate(LOCATIONS)},
        }
        ich_in, loc_in = stack.to_input_order(ich_s), stack.to_input_order(loc_s)
        slice_probabilities = {"ich": [float(v) for v in ich_in]}
        slice_probabilities.update(
            {c: [float(v) for v in loc_in[:, k]] for k, c in enumerate(LOCATIONS)}
        )
        heatmaps: dict[str, Heatmap] = {}
        if explain:
            t = time.perf_counter()
            rollout = stack.to_input_grid(np.concatenate(maps))
            scale = float(rollout.max())
            arr = (rollout / scale if scale > 0 else rollout).clip(0, 1).astype(np.float16)
            seconds = time.perf_counter() - t
            timings["attention_to_input_grid"] = seconds
            names = self.explainer_labels("attention", opts.explain_labels)
            for name in names:
                heatmaps[f"attention_{name}"] = Heatmap(
                    method="attention",
                    label=name,
                    array=arr,
                    signed=False,
                    params={
                        "head_fusion": str(params.get("head_fusion", "mean")),
                        "residual": float(params.get("residual", 0.5)),
                        "class_specific": False,
                        "scale": scale,
                    },
                    passes={"forward": stack.n, "backward": 0},
                    seconds=seconds / max(1, len(names)),
                )
        provenance = {
            "timings_s": timings,
            "slices": {"n": stack.n, "spacing_mm": stack.slice_spacing, "pixel_mm": stack.pixel_mm},
        }
        return self.prediction(
            stack.input_grid,
            probabilities,
            slice_probabilities=slice_probabilities,
            heatmaps=heatmaps,
            provenance=provenance,
        )


def load() -> DualTaskViT:
    """The registry's entry point: the shipped bundle."""
    return DualTaskViT()
