"""Seed 004's networks: a 2D CNN per slice, then two GRU sequence models over the scan.

* :class:`SliceCNN` - a MONAI DenseNet (the DenseNet121 family, small configuration) on
  the three-window RGB slice: 6 logits per slice and the penultimate feature vector (the
  global average of the last convolutional stage, after its ReLU).
* :class:`SequenceModels` - sequence model 1, a bidirectional GRU over the per-slice feature
  vectors, gives refined per-slice logits; sequence model 2, a second bidirectional GRU,
  stacks the per-slice predictions of the CNN and of model 1 with the slice thickness (an
  extra input feature) and gives the final per-slice logits as a correction added to model
  1's (zero at initialisation: stacking can only start from model 1's answer).
* :class:`Member` - one CNN + its sequence models; an ensemble averages members'
  probabilities (the seed averaged three backbones).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch
from monai.networks.nets import DenseNet
from torch import nn

N_LABELS = 6
THICKNESS_REF_MM = 5.0  # thickness enters sequence model 2 as thickness / 5 mm
GRADCAM_LAYER = "net.class_layers.relu"  # in SliceCNN: the rectified last conv stage


@dataclass(frozen=True)
class MemberConfig:
    """One ensemble member's network configuration (``architecture.networks.<role>``)."""

    backbone: str = "densenet"
    init_features: int = 16
    growth_rate: int = 12
    block_config: tuple[int, ...] = (2, 3, 4, 3)
    bn_size: int = 2
    seq_hidden: int = 32
    stack_hidden: int = 16
    dropout: float = 0.2

    def __post_init__(self) -> None:
        object.__setattr__(self, "block_config", tuple(int(b) for b in self.block_config))
        if self.backbone != "densenet":
            raise ValueError(f"backbone must be 'densenet', got {self.backbone!r}")
        if not self.block_config or min(self.block_config) < 1:
            raise ValueError("block_config needs at least one block of >= 1 layers")
        for name in ("init_features", "growth_rate", "bn_size", "seq_hidden", "stack_hidden"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], role: str = "member") -> MemberConfig:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"architecture.networks.{role}: unknown field(s) {unknown}")
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["block_config"] = list(self.block_config)
        return out


class SliceCNN(nn.Module):
    """DenseNet on (n, 3, h, w) slices -> (logits (n, 6), features (n, f))."""

    def __init__(self, cfg: MemberConfig):
        super().__init__()
        self.net = DenseNet(
            spatial_dims=2,
            in_channels=3,
            out_channels=N_LABELS,
            init_features=cfg.init_features,
            growth_rate=cfg.growth_rate,
            block_config=cfg.block_config,
            bn_size=cfg.bn_size,
        )
        head: Any = self.net.class_layers
        self.n_features = int(head.out.in_features)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        layers: Any = self.net.class_layers
        features = layers.flatten(layers.pool(layers.relu(self.net.features(x))))
        return layers.out(features), features


class SequenceModels(nn.Module):
    """Sequence models 1 and 2 over one or more scans (batch, slices, ...)."""

    def __init__(self, n_features: int, cfg: MemberConfig):
        super().__init__()
        self.drop = nn.Dropout(cfg.dropout)
        self.gru1 = nn.GRU(n_features, cfg.seq_hidden, batch_first=True, bidirectional=True)
        self.out1 = nn.Linear(2 * cfg.seq_hidden, N_LABELS)
        self.gru2 = nn.GRU(2 * N_LABELS + 1, cfg.stack_hidden, batch_first=True, bidirectional=True)
        self.out2 = nn.Linear(2 * cfg.stack_hidden, N_LABELS)
        nn.init.zeros_(self.out2.weight)  # model 2 starts as model 1: it learns a correction
        nn.init.zeros_(self.out2.bias)

    def forward(
        self, features: torch.Tensor, cnn_logits: torch.Tensor, thickness_mm: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(b, n, f), (b, n, 6), (b,) -> (sequence-1 logits, final logits), each (b, n, 6)."""
        h1, _ = self.gru1(self.drop(features))
        logits1 = self.out1(h1)
        thick = (thickness_mm / THICKNESS_REF_MM)[:, None, None].expand(-1, features.shape[1], 1)
        stacked = torch.cat([torch.sigmoid(cnn_logits), torch.sigmoid(logits1), thick], dim=-1)
        h2, _ = self.gru2(stacked)
        return logits1, logits1 + self.out2(h2)


class Member(nn.Module):
    """One ensemble member: ``cnn`` and ``seq`` (one safetensors file per member)."""

    def __init__(self, cfg: MemberConfig):
        super().__init__()
        self.config = cfg
        self.cnn = SliceCNN(cfg)
        self.seq = SequenceModels(self.cnn.n_features, cfg)

    def forward(self, slices: torch.Tensor, thickness_mm: float) -> torch.Tensor:
        """One scan's slices (n, 3, h, w) -> final per-slice logits (n, 6)."""
        logits, features = self.cnn(slices)
        thick = torch.tensor([thickness_mm], dtype=features.dtype, device=features.device)
        _, final = self.seq(features[None], logits[None], thick)
        out: torch.Tensor = final[0]
        return out
