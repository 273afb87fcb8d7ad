"""SHAP values by expected gradients (the estimator behind captum's ``GradientShap``).

For each sample k: draw a background volume b_k and alpha_k ~ U(0, 1), take the gradient of
the logit at b_k + alpha_k (x - b_k) and multiply by (x - b_k); the mean over samples
estimates the SHAP values, whose sum approximates f(x) - E_b[f(b)].

Implemented here rather than through ``captum.attr.GradientShap`` because captum draws from
the global NumPy/torch generators and evaluates all samples in one batch (no memory bound
for 3D volumes); here draws come from a local ``numpy.random.Generator(seed)`` (same input ->
identical output, global state untouched) and samples run in mini-batches.

Background set (CT channel; the mask channel is held fixed):

* ``"black"`` - the seed's IG baseline (all 0 after windowing);
* ``"blur"``  - the patch Gaussian-blurred (sigma 2 slices x 8 x 8 voxels): keeps the
  coarse density and removes edges/texture, so attributions reflect structure;
* ``"mean"``  - the patch's mean intensity everywhere.

Callers may also pass their own background volumes (e.g. training patches).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage
from torch import nn

from .common import Attribution, PassCounter, Timer, frozen, normalise, split_input

BACKGROUNDS = ("black", "blur", "mean")


def build_background(ct: np.ndarray, kinds: tuple[str, ...] = ("black", "blur")) -> np.ndarray:
    """Background volumes (K, z, y, x) derived from the CT patch (z, y, x)."""
    out = []
    for kind in kinds:
        if kind == "black":
            out.append(np.zeros_like(ct))
        elif kind == "blur":
            out.append(ndimage.gaussian_filter(ct, sigma=(2.0, 8.0, 8.0), mode="nearest"))
        elif kind == "mean":
            out.append(np.full_like(ct, float(ct.mean())))
        else:
            raise ValueError(f"unknown background {kind!r}; use {BACKGROUNDS}")
    return np.stack(out).astype(np.float32)


def expected_gradients(
    model: nn.Module,
    x: torch.Tensor,
    background: tuple[str, ...] | np.ndarray = ("black", "blur"),
    n_samples: int = 8,
    batch_size: int = 2,
    stdev: float = 0.0,
    seed: int = 0,
) -> Attribution:
    ct, mask = split_input(x)
    bg_desc: str | list[str]
    if isinstance(background, np.ndarray):
        bg = np.asarray(background, dtype=np.float32)
        if bg.ndim == 3:
            bg = bg[None]
        bg_desc = f"{bg.shape[0]} caller-supplied volumes"
    else:
        bg = build_background(ct[0, 0].numpy(), tuple(background))
        bg_desc = list(background)
    if bg.shape[1:] != tuple(ct.shape[2:]):
        raise ValueError(f"background shape {bg.shape[1:]} != patch {tuple(ct.shape[2:])}")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, bg.shape[0], size=n_samples)
    alphas = rng.uniform(0.0, 1.0, size=n_samples).astype(np.float32)
    bg_t = torch.from_numpy(bg)[:, None]  # (K, 1, z, y, x)
    counter = PassCounter(model)
    total = torch.zeros_like(ct[0])
    with Timer() as timer, frozen(model), torch.enable_grad():
        for lo in range(0, n_samples, batch_size):
            idx = picks[lo : lo + batch_size]
            b = bg_t[idx]
            a = torch.from_numpy(alphas[lo : lo + batch_size]).view(-1, 1, 1, 1, 1)
            point = b + a * (ct - b)
            if stdev > 0:
                noise = rng.standard_normal(size=tuple(point.shape), dtype=np.float32)
                point = point + float(stdev) * torch.from_numpy(noise)
            point = point.detach().requires_grad_(True)
            out = counter(torch.cat([point, mask.expand(point.shape[0], -1, -1, -1, -1)], 1))
            (grad,) = torch.autograd.grad(out.sum(), point)
            total += (grad * (ct - b)).sum(dim=0)
        with torch.inference_mode():
            xb = torch.cat(
                [torch.cat([ct, mask], 1)] + [torch.cat([b[None], mask], 1) for b in bg_t]
            )
            outs = counter(xb)
    raw = (total[0] / n_samples).numpy()
    arr, scale = normalise(raw, signed=True)
    f_x, f_bg = float(outs[0]), outs[1:].numpy()
    expected_bg = float(np.mean(f_bg))  # backgrounds are drawn uniformly
    return Attribution(
        method="shap",
        array=arr,
        signed=True,
        params={
            "estimator": "expected gradients (GradientShap)",
            "background": bg_desc,
            "n_samples": int(n_samples),
            "batch_size": int(batch_size),
            "stdev": float(stdev),
            "seed": int(seed),
            "target": "logit of P(cvst_ich)",
            "channel": "ct (mask channel held fixed)",
            "scale": scale,
        },
        forward_passes=counter.forward_passes,
        backward_passes=counter.backward_passes,
        seconds=timer.seconds,
        extras={
            "attribution_sum": float(raw.sum()),
            "logit_input": f_x,
            "logit_background": [float(v) for v in f_bg],
            "expected_gap": f_x - expected_bg,
        },
    )
