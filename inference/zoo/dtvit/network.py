"""The dual-task ViT: one MONAI ViT encoder, two MLP heads on its class token.

Seed 003 (Fan et al.): 16x16 patches, a trainable positional embedding, and two fully
connected heads on shared encoder features - ICH vs normal, and three location classes. The
encoder is ``monai.networks.nets.ViT`` with a class token (``classification=True``) whose
"classification head" is used as the shared representation layer (linear + tanh, the
pre-logits layer of the original ViT); ``save_attn=True`` keeps each block's attention
matrix (softmax weights, detached) for attention rollout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch
from monai.networks.nets import ViT
from torch import nn

LOCATIONS = ("deep", "lobar", "subtentorial")


@dataclass(frozen=True)
class DTViTConfig:
    img_size: int = 128
    patch_size: int = 16
    hidden_size: int = 96
    mlp_dim: int = 192
    num_layers: int = 4
    num_heads: int = 4
    dropout: float = 0.0
    in_channels: int = 3
    n_locations: int = len(LOCATIONS)

    def __post_init__(self) -> None:
        if self.img_size % self.patch_size:
            raise ValueError(
                f"img_size {self.img_size} must be a multiple of patch_size {self.patch_size}"
            )
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"hidden_size {self.hidden_size} must be divisible by num_heads {self.num_heads}"
            )

    @property
    def patch_grid(self) -> tuple[int, int]:
        n = self.img_size // self.patch_size
        return n, n

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DTViTConfig:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"architecture.networks.dtvit: unknown fields {unknown}")
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mlp(width: int, out: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(width, width), nn.GELU(), nn.Dropout(dropout), nn.Linear(width, out)
    )


class DTViT(nn.Module):
    """``forward(x)`` -> (ICH logit (B,), location logits (B, n_locations))."""

    def __init__(self, config: DTViTConfig | None = None):
        super().__init__()
        self.config = c = config or DTViTConfig()
        self.encoder = ViT(
            in_channels=c.in_channels,
            img_size=(c.img_size, c.img_size),
            patch_size=c.patch_size,
            hidden_size=c.hidden_size,
            mlp_dim=c.mlp_dim,
            num_layers=c.num_layers,
            num_heads=c.num_heads,
            proj_type="conv",
            pos_embed_type="learnable",
            classification=True,
            num_classes=c.hidden_size,
            post_activation="Tanh",
            dropout_rate=c.dropout,
            spatial_dims=2,
            qkv_bias=True,
            save_attn=True,
        )
        self.ich_head = _mlp(c.hidden_size, 1, c.dropout)
        self.location_head = _mlp(c.hidden_size, c.n_locations, c.dropout)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features, _ = self.encoder(x)
        return self.ich_head(features).squeeze(-1), self.location_head(features)

    def attentions(self) -> list[torch.Tensor]:
        """Each block's attention weights of the last forward pass, (B, heads, N, N) with
        token 0 the class token and tokens 1.. the patches in row-major order."""
        out: list[torch.Tensor] = []
        for blk in self.encoder.blocks:
            att = blk.attn.att_mat  # type: ignore[union-attr]
            if not isinstance(att, torch.Tensor) or att.ndim != 4:
                raise RuntimeError("no attention weights saved: run a forward pass first")
            out.append(att)
        return out
