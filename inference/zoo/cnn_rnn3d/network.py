"""The joint CNN-RNN: a 2D CNN per slice, a bidirectional GRU over the slice sequence.

One network trained end to end (seed 002, "Sli-Lab"): the CNN (MONAI ``ResNet``, 2D,
pooled features) turns each slice into a feature vector; the GRU reads the slices in
geometric order; its per-step outputs give the slice-level logits and its outputs
max-pooled over the slices give the subject-level logits. Both heads see every label (any
ICH and the five subtypes); the cascade (subtypes count only for ICH-positive subjects) is
applied to the decisions by the plug-in, not inside the network.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from monai.networks.nets import ResNet
from torch import nn


@dataclass(frozen=True)
class NetworkConfig:
    in_channels: int = 3
    n_labels: int = 6
    block_inplanes: tuple[int, ...] = (16, 32, 64, 96)
    layers: tuple[int, ...] = (1, 1, 1, 1)
    hidden: int = 64
    dropout: float = 0.2

    def __post_init__(self) -> None:
        object.__setattr__(self, "block_inplanes", tuple(int(v) for v in self.block_inplanes))
        object.__setattr__(self, "layers", tuple(int(v) for v in self.layers))
        if len(self.block_inplanes) != 4 or len(self.layers) != 4:
            raise ValueError("network: block_inplanes and layers need 4 values each")
        if min(self.in_channels, self.n_labels, self.hidden) < 1:
            raise ValueError("network: in_channels, n_labels and hidden must be >= 1")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"network: dropout must be in [0, 1), got {self.dropout}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetworkConfig:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"network: unknown field(s) {unknown}; known: {sorted(known)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


class CNNRNN3D(nn.Module):
    """``forward(x)``: x (batch, slices, channels, h, w) -> (subject (b, L), slice (b, n, L))
    logits."""

    #: the CNN's last convolutional stage (the default Grad-CAM layer)
    GRADCAM_LAYER = "cnn.layer4"

    def __init__(self, config: NetworkConfig | None = None):
        super().__init__()
        self.config = c = config or NetworkConfig()
        # stride-2 stem without max pooling: a 128 px slice ends on an 8 x 8 layer4 map
        self.cnn = ResNet(
            "basic",
            list(c.layers),
            list(c.block_inplanes),
            spatial_dims=2,
            n_input_channels=c.in_channels,
            conv1_t_size=7,
            conv1_t_stride=2,
            no_max_pool=True,
            feed_forward=False,
        )
        features = c.block_inplanes[-1]
        self.drop = nn.Dropout(c.dropout)
        self.rnn = nn.GRU(features, c.hidden, batch_first=True, bidirectional=True)
        self.slice_head = nn.Linear(2 * c.hidden, c.n_labels)
        self.subject_head = nn.Linear(2 * c.hidden, c.n_labels)

    def slice_features(self, x: torch.Tensor) -> torch.Tensor:
        """(b, n, c, h, w) -> (b, n, features)."""
        if x.dim() != 5:
            raise ValueError(f"input must be (batch, slices, channels, h, w), got {tuple(x.shape)}")
        b, n = x.shape[:2]
        feats: torch.Tensor = self.cnn(x.reshape(b * n, *x.shape[2:]))
        return feats.reshape(b, n, -1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        seq, _ = self.rnn(self.drop(self.slice_features(x)))
        seq = self.drop(seq)
        slice_logits = self.slice_head(seq)
        subject_logits = self.subject_head(seq.amax(dim=1))
        return subject_logits, slice_logits


class SliceSequence(nn.Module):
    """One scan as a batch of slices: (n, c, h, w) -> slice logits (n, L).

    The view a per-slice explainer takes of the joint network: the batch axis is the scan's
    slice sequence (so the batch must hold one whole scan, in order).
    """

    def __init__(self, net: CNNRNN3D):
        super().__init__()
        self.net = net

    def forward(self, slices: torch.Tensor) -> torch.Tensor:
        _, slice_logits = self.net(slices.unsqueeze(0))
        out: torch.Tensor = slice_logits[0]
        return out


@torch.no_grad()
def predict_scan(net: CNNRNN3D, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sigmoid probabilities of one scan: images (n, c, h, w) -> (subject (L,), slice (n, L))."""
    subject, slices = net(images.unsqueeze(0))
    return torch.sigmoid(subject[0].float()), torch.sigmoid(slices[0].float())
