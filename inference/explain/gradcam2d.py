"""2D Grad-CAM per slice and per label (Selvaraju et al.; seed 004's saliency maps).

For label c and the target layer's activations A (n, K, a, b) of a slice batch:
alpha_k = spatial mean of dy_c/dA_k, map = ReLU(sum_k alpha_k A_k), upsampled bilinearly
onto the slice (pixel-centre convention, ``align_corners=False``, as MONAI's
``GradCAM`` does). ``y_c`` is the *logit* of label c (the sigmoid would flatten gradients
of confident slices).

Cost: one forward pass over the slice batch for all labels, then one backward per label from
the summed logit to the target layer only (nothing below it is differentiated, and weights
get no gradients). Per-slice gradients of a summed logit are exact because slices do not
interact in eval mode (batch norm uses its running statistics).

Scaling: ``params["scale"]`` is the raw value mapped to 1. Per case, it is the case's maximum
(each label separately); globally, a constant the model card measured on the training set and
the manifest stores, so colours compare across cases (seed 004 shows one scale for all maps).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from .common import frozen


@dataclass
class GradCAMResult:
    """Raw (unscaled) Grad-CAM maps of a slice batch."""

    maps: dict[int, np.ndarray]  # label index -> float32 (n, h, w), >= 0
    logits: np.ndarray  # float32 (n, n_labels): the explained network's logits
    layer: str
    forward_passes: int  # slices pushed forward
    backward_passes: int  # slices pushed backward (summed over labels)
    seconds: float


def resolve_layer(model: nn.Module, name: str | None = None) -> tuple[str, nn.Module]:
    """The named submodule, or (``name=None``) the last ``Conv2d`` in registration order."""
    modules = dict(model.named_modules())
    if name is not None:
        if name not in modules:
            convs = [n for n, m in modules.items() if isinstance(m, nn.Conv2d)][-3:]
            raise ValueError(f"Grad-CAM layer {name!r} is not in the network (last convs: {convs})")
        return name, modules[name]
    convs = [n for n, m in modules.items() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError("the network has no Conv2d layer; name the Grad-CAM layer explicitly")
    return convs[-1], modules[convs[-1]]


def gradcam2d(
    model: nn.Module,
    x: torch.Tensor,
    labels: Sequence[int],
    layer: str | None = None,
    logits_of: Callable[[Any], torch.Tensor] | None = None,
    batch_size: int = 64,
) -> GradCAMResult:
    """Grad-CAM maps of ``labels`` (logit indices) for every slice of ``x`` (n, c, h, w).

    ``logits_of`` picks the (n, n_labels) logits from the model's output (default: the
    output itself). The model is put in eval mode for the call and restored after.
    """
    if x.ndim != 4:
        raise ValueError(f"Grad-CAM 2D needs slices (n, c, h, w), got shape {tuple(x.shape)}")
    if not labels:
        raise ValueError("Grad-CAM needs at least one label index")
    name, module = resolve_layer(model, layer)
    pick = logits_of or (lambda out: out)
    start = time.perf_counter()
    captured: list[torch.Tensor] = []

    def hook(_m: nn.Module, _i: Any, out: torch.Tensor) -> torch.Tensor:
        captured.append(out)
        return out.clone()  # downstream in-place ops must not touch the captured tensor

    was_training = model.training
    model.eval()
    handle = module.register_forward_hook(hook)
    maps: dict[int, list[torch.Tensor]] = {c: [] for c in labels}
    all_logits: list[torch.Tensor] = []
    backward = 0
    try:
        with frozen(model), torch.enable_grad():
            for lo in range(0, x.shape[0], batch_size):
                chunk = x[lo : lo + batch_size].detach().requires_grad_(True)
                captured.clear()
                logits = pick(model(chunk))
                if len(captured) != 1:
                    raise ValueError(f"layer {name!r} ran {len(captured)} times in one forward")
                acts = captured[0]
                if acts.ndim != 4:
                    raise ValueError(f"layer {name!r} output is not (n, k, a, b): {acts.shape}")
                for i, c in enumerate(labels):
                    (grad,) = torch.autograd.grad(
                        logits[:, c].sum(), acts, retain_graph=i < len(labels) - 1
                    )
                    backward += chunk.shape[0]
                    alpha = grad.mean(dim=(2, 3), keepdim=True)
                    cam = F.relu((alpha * acts).sum(dim=1, keepdim=True)).detach()
                    cam = F.interpolate(cam, size=x.shape[2:], mode="bilinear", align_corners=False)
                    maps[c].append(cam[:, 0])
                all_logits.append(logits.detach())
    finally:
        handle.remove()
        model.train(was_training)
    return GradCAMResult(
        maps={c: torch.cat(v).float().numpy() for c, v in maps.items()},
        logits=torch.cat(all_logits).float().numpy(),
        layer=name,
        forward_passes=int(x.shape[0]),
        backward_passes=backward,
        seconds=time.perf_counter() - start,
    )


def scale_maps(maps: np.ndarray, scale: float | None = None) -> tuple[np.ndarray, float]:
    """Raw maps -> [0, 1] float32 and the raw value mapped to 1.

    ``scale=None``: per case (the maximum of ``maps``; an all-zero case stays zero with scale
    0). A number: the global scale; values above it clip to 1.
    """
    maps = np.asarray(maps, dtype=np.float32)
    if scale is None:
        scale = float(maps.max()) if maps.size else 0.0
    elif not scale > 0:
        raise ValueError(f"a global Grad-CAM scale must be positive, got {scale}")
    if scale <= 0:
        return np.zeros_like(maps), 0.0
    return np.clip(maps / scale, 0.0, 1.0).astype(np.float32), float(scale)
