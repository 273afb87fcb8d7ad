"""The ``ich_subtypes_cnn_rnn3d`` plug-in: seed 002's joint CNN-RNN with its cascade.

``_predict`` keeps every slice of the series (geometric order), runs the network once for
the subject- and slice-level probabilities of all six labels, and decides with the base
class's :func:`inference.plugin.decide` at the operating point's threshold (>= positive).
The cascade is the manifest's (head ``subtypes``, ``cascade_from: "any"``): five-type
classification applies only to subjects called ICH-positive, so a subtype's decision is
0 whenever the any-ICH decision is 0; all six probabilities are always reported.

Grad-CAM (``gradcam``) runs on every slice, per label, at the CNN's last stage. The GRU
mixes slices, so the target is the sum of the label's slice logits over the whole scan
(one forward over the scan as a single sequence, one backward per label): the map of a
slice shows where its CNN features raised that label's evidence anywhere in the scan.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ...explain.gradcam2d import gradcam2d, scale_maps
from ...manifest import ModelLoadError
from ...plugin import PluginModel, PredictOptions
from ...results import Heatmap
from ..slices import SliceConfig, SliceStack, slice_stack

if TYPE_CHECKING:
    import SimpleITK as sitk
    import torch

    from ...results import Prediction
    from .network import CNNRNN3D

BUNDLE = Path(__file__).resolve().parents[2] / "models" / "ich_subtypes_cnn_rnn3d"
ROLE = "cnn_rnn"


class CnnRnn3d(PluginModel):
    """Subject- and slice-level probabilities of any ICH and five subtypes, 2D Grad-CAM."""

    def __init__(self, bundle_dir: str | Path = BUNDLE):
        super().__init__(bundle_dir)
        arch = self._manifest["architecture"]
        if arch["name"] != "ich_cnn_rnn3d_v1":
            raise ModelLoadError(
                f"{self.bundle_dir}: architecture.name must be ich_cnn_rnn3d_v1, "
                f"got {arch['name']!r}"
            )
        if ROLE not in arch["networks"]:
            raise ModelLoadError(f"{self.bundle_dir}: architecture.networks needs {ROLE!r}")
        self.slice_config = SliceConfig.from_manifest(self._manifest["preprocessing"])

    def _network_config(self) -> object:
        from .network import NetworkConfig

        cfg = {k: v for k, v in self._manifest["architecture"]["networks"][ROLE].items()}
        cfg.pop("backbone", None)
        try:
            net_cfg = NetworkConfig.from_dict(cfg)
        except (TypeError, ValueError) as exc:
            raise ModelLoadError(f"architecture.networks.{ROLE}: {exc}") from exc
        if net_cfg.n_labels != len(self.label_names):
            raise ModelLoadError(
                f"architecture.networks.{ROLE}.n_labels is {net_cfg.n_labels}, but the "
                f"manifest has {len(self.label_names)} labels"
            )
        return net_cfg

    def _build(self) -> dict[str, torch.nn.Module]:
        from .network import CNNRNN3D, NetworkConfig

        net_cfg = self._network_config()
        assert isinstance(net_cfg, NetworkConfig)
        net = CNNRNN3D(net_cfg)
        self.load_into(net, self.state(ROLE), ROLE)
        return {ROLE: net}

    def _gradcam(
        self, net: CNNRNN3D, x: torch.Tensor, stack: SliceStack, opts: PredictOptions
    ) -> dict[str, Heatmap]:
        from .network import SliceSequence

        names = self.explainer_labels("gradcam", opts.explain_labels)
        params = self.explainer_params("gradcam", opts.explainer_params.get("gradcam"))
        unknown = sorted(set(params) - {"layer", "scale"})
        if unknown:
            raise ValueError(f"gradcam: unknown parameter(s) {unknown}; known: layer, scale")
        layer = str(params.get("layer") or net.GRADCAM_LAYER)
        scale = params.get("scale")
        res = gradcam2d(
            SliceSequence(net),
            x,
            [self.label_names.index(n) for n in names],
            layer=f"net.{layer}",
            batch_size=int(x.shape[0]),  # one batch = the whole scan, in order
        )
        out: dict[str, Heatmap] = {}
        for name in names:
            scaled, used = scale_maps(res.maps[self.label_names.index(name)], scale)
            out[f"gradcam_{name}"] = Heatmap(
                method="gradcam",
                label=name,
                array=stack.to_input_grid(scaled).clip(0, 1).astype(np.float16),
                signed=False,
                params={
                    "layer": layer,
                    "scaling": "case" if scale is None else "global",
                    "scale": used,
                    "target": "sum of the label's slice logits over the scan",
                },
                passes={
                    "forward": res.forward_passes,
                    "backward": res.backward_passes // len(names),
                },
                seconds=res.seconds / len(names),
            )
        return out

    def _predict(self, image: sitk.Image, opts: PredictOptions) -> Prediction:
        import torch

        from ...device import autocast
        from .network import CNNRNN3D

        timings: dict[str, float] = {}
        t = time.perf_counter()
        stack = slice_stack(image, self.slice_config)
        min_slices = int(self._manifest["input"].get("min_slices", 1))
        if stack.n < min_slices:
            raise ValueError(f"the series has {stack.n} slices; this model needs >= {min_slices}")
        timings["preprocess"] = time.perf_counter() - t
        net = self.networks[ROLE]
        assert isinstance(net, CNNRNN3D)
        x = torch.from_numpy(stack.images).to(opts.device)
        t = time.perf_counter()
        with torch.no_grad(), autocast(opts.device):
            subject, slices = net(x.unsqueeze(0))
        subject_p = torch.sigmoid(subject[0].float()).cpu().numpy()
        slice_p = stack.to_input_order(torch.sigmoid(slices[0].float()).cpu().numpy())
        timings["network"] = time.perf_counter() - t
        labels = self.label_names
        heatmaps: dict[str, Heatmap] = {}
        if "gradcam" in opts.explain:
            t = time.perf_counter()
            heatmaps = self._gradcam(net, x, stack, opts)
            timings["gradcam"] = time.perf_counter() - t
        provenance = {
            "timings_s": timings,
            "slices": {
                "n": stack.n,
                "spacing_mm": stack.slice_spacing,
                "pixel_mm": stack.pixel_mm,
            },
            "cascade": "subtype decisions are 0 where the any-ICH decision is 0",
        }
        return self.prediction(
            stack.input_grid,
            {n: float(subject_p[k]) for k, n in enumerate(labels)},
            slice_probabilities={
                n: [float(v) for v in slice_p[:, k]] for k, n in enumerate(labels)
            },
            heatmaps=heatmaps,
            provenance=provenance,
        )


def load() -> CnnRnn3d:
    """The registry's entry point: the shipped bundle."""
    return CnnRnn3d()
