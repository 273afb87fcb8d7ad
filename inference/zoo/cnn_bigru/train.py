"""Training of ``ich_subtypes_cnn_bigru`` on phantoms, in the seed's three stages.

1. The CNN on single slices (Adam, lr 5e-4, weight decay 2e-5, cosine annealing, batches
   of 32 slices; flips, rotation, scaling and shifts as augmentation).
2. Sequence model 1 on the frozen CNN's features of whole scans (Adam, lr 4e-4 divided by
   10 at 50 % and 75 % of the epochs - the seed's epochs 20 and 30 of 40; a random
   sub-sequence of 24 contiguous slices per scan as augmentation). 150 epochs rather
   than the seed's 40: its epochs had ~150 steps (15,000+ scans), ours have 10.
3. Sequence model 2 (stacking) with the CNN and model 1 frozen, same schedule.

Loss everywhere: the seed's weighted multi-label BCE, weight 2 on the positive term of
``any`` (``pos_weight``). No cross-validation (the seed trained sequence models on
out-of-fold CNN outputs; here all stages see the same training scans). Seeded and
deterministic: the same command gives the same weights (sha256) on the same machine.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from ..slices import SliceConfig
from .data import HELD_OUT_SEED, LABELS, Scan, scans, slice_batches, windowed
from .network import N_LABELS, Member, MemberConfig

ANY_WEIGHT = 2.0
SUBSEQ = 24


@dataclass(frozen=True)
class TrainConfig:
    n_cases: int = 160
    n_held_out: int = 40
    seed: int = 0
    cnn_epochs: int = 4
    seq_epochs: int = 150
    batch: int = 32
    scan_batch: int = 16
    threads: int = 1  # a shared 2-core machine runs 1 thread faster than 2
    members: tuple[MemberConfig, ...] = (MemberConfig(),)


def weighted_bce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Seed 004's loss: mean over slices and labels of -[w y log p + (1 - y) log(1 - p)]."""
    w = torch.ones(N_LABELS, dtype=logits.dtype, device=logits.device)
    w[LABELS.index("any")] = ANY_WEIGHT
    return F.binary_cross_entropy_with_logits(logits, target, pos_weight=w)


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random left-right flip, rotation (+-10 deg), scaling (+-10 %), shift (+-6 %);
    windowed images pad with 0, which is air in every window."""
    b = x.shape[0]
    ang = (torch.rand(b, generator=gen) * 2 - 1) * math.radians(10)
    scale = 1 + (torch.rand(b, generator=gen) * 2 - 1) * 0.1
    shift = (torch.rand(b, 2, generator=gen) * 2 - 1) * 0.12
    flip = torch.where(torch.rand(b, generator=gen) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(ang) / scale, torch.sin(ang) / scale
    theta = torch.stack(
        [
            torch.stack([cos * flip, -sin, shift[:, 0]], 1),
            torch.stack([sin * flip, cos, shift[:, 1]], 1),
        ],
        1,
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def train_cnn(
    member: Member, data: list[Scan], cfg: SliceConfig, tc: TrainConfig, log: Any
) -> None:
    net = member.cnn
    opt = torch.optim.Adam(net.parameters(), lr=5e-4, weight_decay=2e-5)
    steps = tc.cnn_epochs * math.ceil(sum(s.n for s in data) / tc.batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))
    rng = np.random.default_rng(tc.seed)
    gen = torch.Generator().manual_seed(tc.seed)
    net.train()
    for epoch in range(tc.cnn_epochs):
        total, count = 0.0, 0
        for hu, y in slice_batches(data, tc.batch, rng):
            logits, _ = net(augment(windowed(hu, cfg), gen))
            loss = weighted_bce(logits, y)
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(y)
            count += len(y)
        log(f"cnn epoch {epoch + 1}/{tc.cnn_epochs}: loss {total / count:.4f}")
    net.eval()


@torch.no_grad()
def cnn_outputs(member: Member, scan: Scan, cfg: SliceConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits (n, 6), features (n, f)) of the frozen CNN on a whole scan."""
    member.cnn.eval()
    logits, feats = member.cnn(windowed(torch.from_numpy(scan.hu), cfg))
    return logits, feats


def _windows(
    cache: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]],
    idx: np.ndarray,
    rng: np.random.Generator,
) -> tuple[torch.Tensor, ...]:
    length = min(SUBSEQ, *(cache[i][0].shape[0] for i in idx))
    parts: list[list[torch.Tensor]] = [[], [], []]
    thick = []
    for i in idx:
        logits, feats, y, t = cache[i]
        lo = int(rng.integers(0, logits.shape[0] - length + 1))
        for p, v in zip(parts, (feats, logits, y)):
            p.append(v[lo : lo + length])
        thick.append(t)
    feats, logits, y = (torch.stack(p) for p in parts)
    return feats, logits, y, torch.tensor(thick, dtype=torch.float32)


def train_sequence(
    member: Member,
    cache: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]],
    stage: int,
    tc: TrainConfig,
    log: Any,
) -> None:
    """Stage 2 (``stage=1``: sequence model 1) or stage 3 (``stage=2``: model 2)."""
    seq = member.seq
    params: list[nn.Parameter] = [
        *(seq.gru1.parameters() if stage == 1 else seq.gru2.parameters()),
        *(seq.out1.parameters() if stage == 1 else seq.out2.parameters()),
    ]
    opt = torch.optim.Adam(params, lr=4e-4)
    per_epoch = math.ceil(len(cache) / tc.scan_batch)
    milestones = [int(tc.seq_epochs * 0.5) * per_epoch, int(tc.seq_epochs * 0.75) * per_epoch]
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=milestones, gamma=0.1)
    rng = np.random.default_rng(tc.seed + stage)
    seq.train(stage == 1)  # stage 3: model 1 as at prediction time (no dropout)
    for epoch in range(tc.seq_epochs):
        total = 0.0
        order = rng.permutation(len(cache))
        for lo in range(0, len(order), tc.scan_batch):
            feats, logits, y, thick = _windows(cache, order[lo : lo + tc.scan_batch], rng)
            out1, out2 = seq(feats, logits, thick)
            loss = weighted_bce(out1 if stage == 1 else out2, y)
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            sched.step()
            total += float(loss.detach())
        if (epoch + 1) % 50 == 0:
            log(
                f"sequence model {stage} epoch {epoch + 1}/{tc.seq_epochs}: loss {total / per_epoch:.4f}"
            )
    seq.eval()


def train_member(
    mc: MemberConfig, data: list[Scan], cfg: SliceConfig, tc: TrainConfig, log: Any
) -> Member:
    member = Member(mc)
    train_cnn(member, data, cfg, tc, log)
    cache = []
    for s in data:
        logits, feats = cnn_outputs(member, s, cfg)
        cache.append((logits, feats, torch.from_numpy(s.labels), s.thickness_mm))
    for p in member.cnn.parameters():
        p.requires_grad_(False)
    train_sequence(member, cache, 1, tc, log)
    train_sequence(member, cache, 2, tc, log)
    for p in member.parameters():
        p.requires_grad_(True)
    return member.eval()


def train(tc: TrainConfig, out: Path, version: str = "0.1.0", log: Any = print) -> dict[str, Any]:
    """Train every member, evaluate on held-out phantoms, write the bundle to ``out``."""
    from .bundle import write_bundle
    from .evaluate import evaluate, gradcam_scales

    torch.manual_seed(tc.seed)
    torch.set_num_threads(tc.threads)
    prev = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        t0 = time.perf_counter()
        cfg = SliceConfig()
        data = scans(tc.n_cases, 0, cfg)
        log(f"rendered {len(data)} training scans, {sum(s.n for s in data)} slices")
        members = []
        for k, mc in enumerate(tc.members):
            torch.manual_seed(tc.seed + k)
            members.append(train_member(mc, data, cfg, tc, log))
        train_s = time.perf_counter() - t0
        held_out = scans(tc.n_held_out, HELD_OUT_SEED, cfg)
        metrics = evaluate(members, held_out, cfg)
        scales = gradcam_scales(members, data[: min(len(data), 24)], cfg)
        log(f"held-out: {metrics['summary']}")
    finally:
        torch.use_deterministic_algorithms(prev)
    write_bundle(out, members, cfg, tc, metrics, scales, train_s, version)
    runtime = measure_runtime(out, tc.n_held_out, tc.threads)
    log(f"runtime: {runtime}")
    return write_bundle(out, members, cfg, tc, metrics, scales, train_s, version, runtime)


def measure_runtime(
    bundle: Path, n_held_out: int, threads: int, n_cases: int = 3
) -> dict[str, Any]:
    """Seconds per scan and ms per slice through the plug-in's ``predict`` (input and output
    resampling included), with Grad-CAM for every label and without explanations."""
    from phantoms.subtype_case import make_subtype_case
    from phantoms.subtype_dataset import plan_cases

    from .data import MATRIX, NORMAL_FRACTION
    from .plugin import CnnBiGRU

    model = CnnBiGRU(bundle)
    plans = plan_cases(n_held_out, HELD_OUT_SEED, NORMAL_FRACTION)[:n_cases]
    cases = [
        make_subtype_case(HELD_OUT_SEED + i, s, location=loc, matrix=MATRIX)
        for i, (s, loc) in enumerate(plans)
    ]
    model.predict(cases[0].to_sitk(), options={"threads": threads, "device": "cpu"})  # warm-up
    out: dict[str, Any] = {"threads": threads, "cases": len(cases)}
    slices = sum(c.n_slices for c in cases)
    out["slices"] = slices
    for key, explain in (("no_explain", ()), ("with_gradcam", ("gradcam",))):
        t = time.perf_counter()
        for c in cases:
            meta = {"SliceThickness": str(c.slice_thickness)}
            opts = {"threads": threads, "device": "cpu", "explain": explain}
            model.predict(c.to_sitk(), meta=meta, options=opts)
        seconds = time.perf_counter() - t
        out[f"case_seconds_{key}"] = round(seconds / len(cases), 3)
        out[f"ms_per_slice_{key}"] = round(1000 * seconds / slices, 1)
    return out


def run_cli(args: argparse.Namespace) -> None:
    """``python -m inference train --model-id ich_subtypes_cnn_bigru --out DIR``."""
    tc = TrainConfig()
    overrides = {
        "n_cases": getattr(args, "n_cases", None),
        "seed": getattr(args, "seed", None),
        "cnn_epochs": getattr(args, "epochs", None),
        "threads": getattr(args, "threads", None),
    }
    tc = TrainConfig(**{**tc.__dict__, **{k: v for k, v in overrides.items() if v is not None}})
    train(tc, Path(args.out), version=getattr(args, "version", None) or "0.1.0")
