"""The deep branch: a MONAI 2D ResNet on the largest haematoma slice, penultimate layer.

Seed 001 uses an ImageNet ResNet101. No pretrained weights can be fetched here and a
ResNet101 is too slow to train on two CPU cores, so the extractor is a ResNet-10-style
network (basic blocks, one per stage) with a quarter of the standard widths, trained on
the phantoms' training split as a CVT-related vs other classifier; its pooled
penultimate activations are the deep features.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class ExtractorConfig:
    layers: tuple[int, ...] = (1, 1, 1, 1)
    block_inplanes: tuple[int, ...] = (16, 32, 64, 128)
    conv1_stride: int = 2
    input_size: int = 128

    @property
    def n_features(self) -> int:
        return int(self.block_inplanes[-1])

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {**d, "layers": list(self.layers), "block_inplanes": list(self.block_inplanes)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExtractorConfig:
        return cls(
            layers=tuple(int(v) for v in d["layers"]),
            block_inplanes=tuple(int(v) for v in d["block_inplanes"]),
            conv1_stride=int(d["conv1_stride"]),
            input_size=int(d["input_size"]),
        )


def build_network(config: ExtractorConfig) -> torch.nn.Module:
    """The classifier (2 logits); :func:`features` reads its penultimate layer."""
    from monai.networks.nets import ResNet

    return ResNet(
        block="basic",
        layers=list(config.layers),
        block_inplanes=list(config.block_inplanes),
        spatial_dims=2,
        n_input_channels=1,
        conv1_t_size=7,
        conv1_t_stride=config.conv1_stride,
        num_classes=2,
    )


def features(net: torch.nn.Module, slices: np.ndarray, batch: int = 32) -> np.ndarray:
    """Penultimate-layer activations (n, n_features) of (n, H, W) slices in [0, 1]."""
    import torch

    fc = net.fc
    net.fc = torch.nn.Identity()
    try:
        net.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(slices), batch):
                x = torch.from_numpy(np.ascontiguousarray(slices[i : i + batch, None]))
                out.append(net(x.float()).cpu().numpy())
    finally:
        net.fc = fc
    return np.concatenate(out).astype(np.float64)


def train_network(
    config: ExtractorConfig,
    slices: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    seed: int,
    batch: int = 16,
    lr: float = 1e-3,
) -> tuple[torch.nn.Module, list[dict[str, float]]]:
    """Train the extractor as a classifier (class-weighted cross-entropy, flips)."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = build_network(config)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    counts = np.bincount(y, minlength=2).astype(np.float64)
    weight = torch.tensor(counts.sum() / (2 * np.maximum(counts, 1)), dtype=torch.float32)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
    history = []
    for epoch in range(epochs):
        net.train()
        order = rng.permutation(len(y))
        total = 0.0
        for i in range(0, len(order), batch):
            idx = order[i : i + batch]
            x = slices[idx].copy()
            flip = rng.random(len(idx)) < 0.5
            x[flip] = x[flip, :, ::-1]
            xt = torch.from_numpy(np.ascontiguousarray(x[:, None])).float()
            loss = loss_fn(net(xt), torch.from_numpy(y[idx]).long())
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        history.append({"epoch": epoch + 1, "loss": round(total / len(y), 4)})
    return net.eval(), history
