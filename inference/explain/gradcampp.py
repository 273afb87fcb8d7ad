"""3D Grad-CAM++ on a chosen layer of the classifier (own implementation of the published
formula; MONAI's ``GradCAMpp`` computes the same but needs trainable parameters and a full
backward pass).

Speed: the gradient is only needed at the chosen layer, so its output is turned into a
graph leaf by a forward hook and the backward pass stops there; layers before it are never
back-propagated. One forward plus a partial backward.

Target: the seed back-propagates "the predicted class": score = +logit when the predicted
class is CVST-ICH, -logit when it is sICH (``target_sign``). The map is a ReLU of the
weighted activations, upsampled (trilinear) to the patch and normalised to [0, 1].
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .common import Attribution, PassCounter, Timer, frozen, normalise

DEFAULT_LAYER = "encoder.blocks.2"  # block 3: 1/4 resolution, e.g. 8x32x32 on a 32x128x128 patch


def gradcampp(
    model: nn.Module, x: torch.Tensor, layer: str = DEFAULT_LAYER, target_sign: int = 1
) -> Attribution:
    modules = dict(model.named_modules())
    if layer not in modules:
        raise ValueError(f"layer {layer!r} not found; choose one of the encoder blocks")
    if target_sign not in (1, -1):
        raise ValueError("target_sign must be +1 (cvst_ich) or -1 (sich)")
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
        g2 = grad.pow(2)
        denom = 2.0 * g2 + act.sum(dim=(2, 3, 4), keepdim=True) * grad.pow(3)
        denom = torch.where(denom != 0, denom, torch.ones_like(denom))
        alpha = g2 / denom
        weights = (alpha * F.relu(grad)).sum(dim=(2, 3, 4), keepdim=True)
        cam = F.relu((weights * act).sum(dim=1, keepdim=True))
        cam = F.interpolate(cam, size=tuple(x.shape[2:]), mode="trilinear", align_corners=False)
    arr, scale = normalise(cam[0, 0].numpy(), signed=False)
    return Attribution(
        method="gradcampp",
        array=arr,
        signed=False,
        params={
            "layer": layer,
            "layer_shape": list(act.shape[2:]),
            "target": "cvst_ich" if target_sign == 1 else "sich",
            "score": "logit" if target_sign == 1 else "-logit",
            "upsampling": "trilinear",
            "scale": scale,
        },
        forward_passes=counter.forward_passes,
        backward_passes=counter.backward_passes,
        seconds=timer.seconds,
        extras={"backward": f"partial (stops at {layer})"},
    )
