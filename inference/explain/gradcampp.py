"""3D Grad-CAM++ on a chosen layer of the classifier (own implementation; MONAI's
``GradCAMpp`` computes the ``channel`` weighting below but needs trainable parameters and a
full backward pass).

Weighting of the layer's activations ``A_k`` by the gradients ``g_k = dS/dA_k``:

* ``"element"`` (default): ``ReLU(sum_k ReLU(g_k) * A_k)`` voxel by voxel - Grad-CAM++'s
  positive gradients kept where they occur instead of pooled per channel (LayerCAM, Jiang et
  al., IEEE TIP 2021). The classifier's head does not pool globally: it averages the last
  block onto a 2x4x4 grid and feeds the cells to the FC separately, so the gradient of a
  channel changes sign from one region to another. Pooling it into one weight per channel
  (the published formula) then credits regions the head weighs negatively: on held-out
  phantoms the channel-weighted map at block 3 sat beside the hematoma for 3 of 5 predicted
  CVST-ICH cases and no other block fixed it; the element-wise map at block 1 lies on it
  (figures in ``bench/inference/README.md``).
* ``"channel"``: the published Grad-CAM++ weights (Chattopadhay et al., WACV 2018),
  ``w_k = sum_space alpha_k * ReLU(g_k)`` with ``alpha = g^2 / (2 g^2 + sum(A) g^3)``.

Speed: the gradient is only needed at the chosen layer, so its output is turned into a
graph leaf by a forward hook and the backward pass stops there; layers before it are never
back-propagated. One forward plus a partial backward.

Target: the seed back-propagates "the predicted class": score = +logit when the predicted
class is CVST-ICH, -logit when it is sICH (``target_sign``). The map is upsampled
(trilinear, voxel centres; :func:`~inference.explain.common.upsample_to_patch`) to the
patch when the layer is coarser, and normalised to [0, 1].
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from .common import Attribution, PassCounter, Timer, frozen, normalise, upsample_to_patch

DEFAULT_LAYER = "encoder.blocks.0"  # block 1: the patch's own resolution (32x128x128)
WEIGHTINGS = ("element", "channel")


def cam_from_gradients(act: torch.Tensor, grad: torch.Tensor, weighting: str) -> torch.Tensor:
    """(1, 1, d, h, w) class map from a layer's activations and the score's gradients."""
    if weighting == "element":
        return F.relu((F.relu(grad) * act).sum(dim=1, keepdim=True))
    if weighting == "channel":
        g2 = grad.pow(2)
        denom = 2.0 * g2 + act.sum(dim=(2, 3, 4), keepdim=True) * grad.pow(3)
        denom = torch.where(denom != 0, denom, torch.ones_like(denom))
        alpha = g2 / denom
        weights = (alpha * F.relu(grad)).sum(dim=(2, 3, 4), keepdim=True)
        return F.relu((weights * act).sum(dim=1, keepdim=True))
    raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")


def gradcampp(
    model: nn.Module,
    x: torch.Tensor,
    layer: str = DEFAULT_LAYER,
    target_sign: int = 1,
    weighting: str = "element",
) -> Attribution:
    modules = dict(model.named_modules())
    if layer not in modules:
        raise ValueError(f"layer {layer!r} not found; choose one of the encoder blocks")
    if target_sign not in (1, -1):
        raise ValueError("target_sign must be +1 (cvst_ich) or -1 (sich)")
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    store: dict[str, torch.Tensor] = {}

    def hook(_module: nn.Module, _inputs: tuple[Any, ...], output: torch.Tensor) -> torch.Tensor:
        if not output.requires_grad:
            output = output.detach().requires_grad_(True)
        store["act"] = output
        return output

    counter = PassCounter(model)
    handle = modules[layer].register_forward_hook(hook)
    with Timer() as timer, frozen(model), torch.enable_grad():
        try:
            logit = counter(x)
        finally:
            handle.remove()
        act = store["act"]
        (grad,) = torch.autograd.grad(target_sign * logit.sum(), act)
        act, grad = act.detach(), grad.detach()
        cam = upsample_to_patch(cam_from_gradients(act, grad, weighting), tuple(x.shape[2:]))
    arr, scale = normalise(cam[0, 0].numpy(), signed=False)
    return Attribution(
        method="gradcampp",
        array=arr,
        signed=False,
        params={
            "layer": layer,
            "layer_shape": list(act.shape[2:]),
            "weighting": weighting,
            "target": "cvst_ich" if target_sign == 1 else "sich",
            "score": "logit" if target_sign == 1 else "-logit",
            "upsampling": "trilinear" if tuple(act.shape[2:]) != tuple(x.shape[2:]) else "none",
            "scale": scale,
        },
        forward_passes=counter.forward_passes,
        backward_passes=counter.backward_passes,
        seconds=timer.seconds,
        extras={"backward": f"partial (stops at {layer})"},
    )
