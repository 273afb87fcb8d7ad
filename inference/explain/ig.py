"""Integrated Gradients (captum) with the seed's black baseline.

The CT channel is attributed; the hematoma-mask channel is held fixed (passed as an
additional forward argument), so the baseline is "black CT with the same mask" and the map
lives on the CT. Sign is kept: positive = towards CVST-ICH.

Speed, compared with captum's defaults (50 Riemann steps, one batch): Gauss-Legendre
quadrature converges in far fewer steps on smooth paths (16 by default), the steps run in
mini-batches (``internal_batch_size``, memory-bounded), and frozen weights skip the weight
gradients. The completeness residual (sum of attributions - (f(x) - f(baseline))) is
returned so a caller can see whether the step count was sufficient.
"""

from __future__ import annotations

import torch
from captum.attr import IntegratedGradients
from torch import nn

from .common import Attribution, PassCounter, Timer, frozen, normalise, split_input


def integrated_gradients(
    model: nn.Module,
    x: torch.Tensor,
    n_steps: int = 16,
    internal_batch_size: int = 2,
    method: str = "gausslegendre",
    baseline: float = 0.0,
) -> Attribution:
    if n_steps < 2:
        raise ValueError("n_steps must be >= 2")
    ct, mask = split_input(x)
    counter = PassCounter(model)

    def forward(ct_in: torch.Tensor, mask_in: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = counter(
            torch.cat([ct_in, mask_in.expand(ct_in.shape[0], -1, -1, -1, -1)], 1)
        )
        return out

    ig = IntegratedGradients(forward)
    with Timer() as timer, frozen(model):
        attr, delta = ig.attribute(
            ct,
            baselines=torch.full_like(ct, float(baseline)),
            additional_forward_args=(mask,),
            n_steps=int(n_steps),
            method=method,
            internal_batch_size=int(internal_batch_size),
            return_convergence_delta=True,
        )
    raw = attr[0, 0].detach().numpy()
    arr, scale = normalise(raw, signed=True)
    total = float(raw.sum())
    return Attribution(
        method="ig",
        array=arr,
        signed=True,
        params={
            "baseline": "black" if baseline == 0.0 else float(baseline),
            "n_steps": int(n_steps),
            "method": method,
            "internal_batch_size": int(internal_batch_size),
            "target": "logit of P(cvst_ich)",
            "channel": "ct (mask channel held fixed)",
            "scale": scale,
        },
        forward_passes=counter.forward_passes,
        backward_passes=counter.backward_passes,
        seconds=timer.seconds,
        extras={
            "attribution_sum": total,
            "convergence_delta": float(delta.reshape(-1)[0]),
        },
    )
