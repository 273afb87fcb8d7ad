"""Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers").

Per layer, the heads' attention weights are fused (mean over heads by default), the
residual connection is accounted for by adding the identity (``A = (1 - r) W + r I``, the
paper's ``r = 0.5``), rows are renormalised to sum to 1, and the layers are multiplied from
the first to the last: ``R = A_L ... A_2 A_1``. Row 0 of ``R`` (the class token) over the
patch tokens says how much each patch flowed into the class token the heads read.

The map is class-agnostic: every head of a model that reads the same class token gets the
same rollout.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

HEAD_FUSIONS = ("mean", "max", "min")


def attention_rollout(
    attentions: Sequence[torch.Tensor], head_fusion: str = "mean", residual: float = 0.5
) -> torch.Tensor:
    """(B, N, N) rollout of per-layer attention weights, each (B, heads, N, N), first
    layer first."""
    if not attentions:
        raise ValueError("attention rollout needs the attention weights of at least one layer")
    if head_fusion not in HEAD_FUSIONS:
        raise ValueError(f"head_fusion must be one of {HEAD_FUSIONS}, got {head_fusion!r}")
    if not 0.0 <= residual <= 1.0:
        raise ValueError(f"residual must be in [0, 1], got {residual}")
    shape = attentions[0].shape
    if len(shape) != 4 or shape[-1] != shape[-2]:
        raise ValueError(f"attention weights must be (B, heads, N, N), got {tuple(shape)}")
    eye = torch.eye(shape[-1], dtype=attentions[0].dtype, device=attentions[0].device)
    result = eye.expand(shape[0], -1, -1)
    for layer, att in enumerate(attentions):
        if att.shape != shape:
            raise ValueError(
                f"layer {layer}: attention shape {tuple(att.shape)} differs from {tuple(shape)}"
            )
        if head_fusion == "mean":
            fused = att.mean(dim=1)
        elif head_fusion == "max":
            fused = att.amax(dim=1)
        else:
            fused = att.amin(dim=1)
        a = (1.0 - residual) * fused + residual * eye
        a = a / a.sum(dim=-1, keepdim=True)
        result = a @ result
    return result


def cls_rollout(
    attentions: Sequence[torch.Tensor],
    patch_grid: tuple[int, int],
    head_fusion: str = "mean",
    residual: float = 0.5,
) -> torch.Tensor:
    """(B, gh, gw): the class token's (token 0) rollout row over the patch tokens."""
    gh, gw = patch_grid
    rollout = attention_rollout(attentions, head_fusion, residual)
    n = rollout.shape[-1]
    if n != 1 + gh * gw:
        raise ValueError(f"{n} tokens do not make a class token plus a {gh}x{gw} patch grid")
    return rollout[:, 0, 1:].reshape(-1, gh, gw)
