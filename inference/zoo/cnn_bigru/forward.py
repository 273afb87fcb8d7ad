"""One scan through the ensemble: per-slice probabilities of every stage, Grad-CAM maps.

Shared by the plug-in, the trainer's evaluation and the tests, so the figures in the model
card come from the code that serves predictions. Members' probabilities are averaged (the
seed's unweighted ensemble); so are their raw Grad-CAM maps (each member's CNN, on its
rectified last convolutional stage).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ...explain.gradcam2d import gradcam2d
from .network import GRADCAM_LAYER, Member


@dataclass
class ScanOutputs:
    cnn: np.ndarray  # (n, 6) CNN probabilities (stage 1)
    seq1: np.ndarray  # (n, 6) sequence model 1
    final: np.ndarray  # (n, 6) sequence model 2: the model's per-slice output
    cams: dict[int, np.ndarray] = field(default_factory=dict)  # label -> raw (n, h, w)
    forward_passes: int = 0
    backward_passes: int = 0
    layer: str = GRADCAM_LAYER


def run_scan(
    members: Sequence[Member],
    x: torch.Tensor,
    thickness_mm: float,
    cam_labels: Sequence[int] = (),
    layer: str = GRADCAM_LAYER,
    batch_size: int = 64,
) -> ScanOutputs:
    """``x``: the scan's model slices (n, c, h, w) in geometric order, on the members' device."""
    if not members:
        raise ValueError("the ensemble has no members")
    stages: list[list[np.ndarray]] = [[], [], []]
    cams: dict[int, list[np.ndarray]] = {c: [] for c in cam_labels}
    fwd = bwd = 0
    for member in members:
        member.eval()
        feats: list[torch.Tensor] = []
        if cam_labels:

            def pick(
                out: tuple[torch.Tensor, torch.Tensor], sink: list[torch.Tensor] = feats
            ) -> torch.Tensor:
                sink.append(out[1].detach())
                return out[0]

            res = gradcam2d(member.cnn, x, cam_labels, layer, pick, batch_size)
            logits = torch.from_numpy(res.logits).to(x.device)
            features = torch.cat(feats)
            for c in cam_labels:
                cams[c].append(res.maps[c])
            fwd += res.forward_passes
            bwd += res.backward_passes
        else:
            with torch.no_grad():
                outs = [member.cnn(x[lo : lo + batch_size]) for lo in range(0, len(x), batch_size)]
            logits = torch.cat([o[0] for o in outs])
            features = torch.cat([o[1] for o in outs])
            fwd += int(x.shape[0])
        with torch.no_grad():
            thick = torch.tensor([thickness_mm], dtype=features.dtype, device=features.device)
            out1, out2 = member.seq(features[None], logits[None], thick)
        for stage, value in zip(stages, (logits, out1[0], out2[0])):
            stage.append(torch.sigmoid(value.float()).cpu().numpy())
    mean = [np.mean(s, axis=0).astype(np.float32) for s in stages]
    return ScanOutputs(
        cnn=mean[0],
        seq1=mean[1],
        final=mean[2],
        cams={c: np.mean(v, axis=0).astype(np.float32) for c, v in cams.items()},
        forward_passes=fwd,
        backward_passes=bwd,
        layer=layer,
    )
