"""Train the joint CNN-RNN on in-memory phantoms and write its bundle.

``python -m inference train --model-id ich_subtypes_cnn_rnn3d --out DIR`` (defaults: 160
training cases, case seeds 0..159; 60 held-out cases, seeds 100000..100059). One network,
one optimiser, one loss: subject-level BCE plus slice-level BCE (seed 002's "Sli-Lab"
regime), on random runs of consecutive slices (the subject labels of a run are those of
its slices). Seeded and deterministic: the same command on the same machine writes the
same weights.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ...manifest import sha256_file
from ..slices import SEED004_WINDOWS, SliceConfig
from .data import LABELS, StackCase, held_out_seeds, network_input, render_cases
from .evaluate import metrics, scan_predictions
from .manifest import build_manifest
from .network import CNNRNN3D, NetworkConfig

MODEL_ID = "ich_subtypes_cnn_rnn3d"
WEIGHTS_FILE = "cnn_rnn.safetensors"
N_CASES, N_HELD_OUT, EPOCHS, BATCH, RUN, LR = 160, 60, 16, 4, 12, 3e-3


def log(msg: str) -> None:
    print(f"[train {MODEL_ID}] {msg}", flush=True)


def pos_weights(cases: list[StackCase]) -> tuple[torch.Tensor, torch.Tensor]:
    """(subject, slice) BCE positive weights per label: negatives / positives, in [1, 10]."""
    subj = np.stack([c.labels for c in cases]).mean(axis=0)
    sl = np.concatenate([c.slice_labels for c in cases]).mean(axis=0)

    def w(p: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(
            np.clip((1 - p) / np.maximum(p, 1e-6), 1.0, 10.0).astype(np.float32)
        )

    return w(subj), w(sl)


def batch(
    cases: list[StackCase], run: int, config: SliceConfig, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random runs of ``run`` consecutive slices, left-right flipped half the time."""
    n = min(run, *(c.hu.shape[0] for c in cases))
    xs, ys = [], []
    for c in cases:
        start = int(rng.integers(0, c.hu.shape[0] - n + 1))
        hu = c.hu[start : start + n]
        if rng.random() < 0.5:
            hu = hu[:, :, ::-1]
        xs.append(network_input(np.ascontiguousarray(hu), config))
        ys.append(c.slice_labels[start : start + n])
    x = torch.from_numpy(np.stack(xs))
    y_slice = torch.from_numpy(np.stack(ys))
    return x, y_slice.amax(dim=1), y_slice


def train(
    cases: list[StackCase],
    config: SliceConfig,
    net_config: NetworkConfig,
    *,
    epochs: int,
    batch_size: int,
    run: int,
    lr: float,
    seed: int,
) -> tuple[CNNRNN3D, list[dict[str, float]]]:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = CNNRNN3D(net_config)
    w_subject, w_slice = pos_weights(cases)
    subject_loss = nn.BCEWithLogitsLoss(pos_weight=w_subject)
    slice_loss = nn.BCEWithLogitsLoss(pos_weight=w_slice)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * (len(cases) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(steps, 1))
    history = []
    for epoch in range(epochs):
        net.train()
        order = rng.permutation(len(cases))
        totals = np.zeros(2)
        nb = len(cases) // batch_size
        for b in range(nb):
            x, y_subj, y_sl = batch(
                [cases[int(i)] for i in order[b * batch_size : (b + 1) * batch_size]],
                run,
                config,
                rng,
            )
            subj, sl = net(x)
            l_subj, l_sl = subject_loss(subj, y_subj), slice_loss(sl, y_sl)
            opt.zero_grad()
            (l_subj + l_sl).backward()
            opt.step()
            sched.step()
            totals += [l_subj.item(), l_sl.item()]
        history.append(
            {
                "subject_bce": round(float(totals[0]) / nb, 4),
                "slice_bce": round(float(totals[1]) / nb, 4),
            }
        )
        log(f"epoch {epoch + 1}/{epochs}: {history[-1]}")
    net.eval()
    return net, history


def save_weights(net: nn.Module, path: Path) -> dict[str, Any]:
    from safetensors.torch import save_file

    state = {k: v.detach().contiguous().clone() for k, v in net.state_dict().items()}
    save_file(state, str(path), metadata={"format": "pt"})
    return {
        "role": "cnn_rnn",
        "file": path.name,
        "format": "safetensors",
        "sha256": sha256_file(path),
        "bytes": path.stat().st_size,
    }


def run(
    out: str | Path,
    *,
    n_cases: int = N_CASES,
    n_held_out: int = N_HELD_OUT,
    epochs: int = EPOCHS,
    seed: int = 0,
    threads: int = 2,
    version: str = "0.1.0",
    run_length: int = RUN,
    lr: float = LR,
) -> dict[str, Any]:
    if n_cases < 8 or n_held_out < 4 or epochs < 0:
        raise ValueError("need n_cases >= 8, n_held_out >= 4 and epochs >= 0")
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = SliceConfig(SEED004_WINDOWS, (128, 128), "unit")
    net_config = NetworkConfig()
    t0 = time.perf_counter()
    cases = render_cases(range(n_cases), plan_seed=seed, config=config)
    held = render_cases(held_out_seeds(n_held_out), plan_seed=seed + 1, config=config)
    t_data = time.perf_counter() - t0
    log(f"rendered {len(cases)} training + {len(held)} held-out cases in {t_data:.0f} s")
    net, history = train(
        cases,
        config,
        net_config,
        epochs=epochs,
        batch_size=BATCH,
        run=run_length,
        lr=lr,
        seed=seed,
    )
    t_train = time.perf_counter() - t0 - t_data
    weights = save_weights(net, out / WEIGHTS_FILE)
    held_metrics = metrics(held, scan_predictions(net, held, config))
    log("held-out: " + json.dumps({k: held_metrics[k] for k in LABELS}))
    record = {
        "synthetic": True,
        "data": (
            f"readerstudy subtype phantoms: {n_cases} thick-slice head CTs (matrix 128), case "
            f"seeds 0..{n_cases - 1}, contents from plan_cases({n_cases}, seed={seed}, "
            "normal_fraction=0.35)"
        ),
        "held_out": (
            f"{n_held_out} phantoms, case seeds {held_out_seeds(1)[0]}.."
            f"{held_out_seeds(n_held_out)[-1]}, plan_cases(seed={seed + 1}); never trained on"
        ),
        "command": f"python -m inference train --model-id {MODEL_ID} --out DIR "
        f"--n-cases {n_cases} --seed {seed} --epochs {epochs} --threads {threads}",
        "seed": seed,
        "regime": "Sli-Lab: subject + slice labels, one joint loss",
        "loss": "BCEWithLogits(subject) + BCEWithLogits(slice), pos_weight = neg/pos in [1, 10]",
        "optimizer": f"AdamW lr {lr} one-cycle, weight decay 1e-4",
        "epochs": epochs,
        "batch": f"{BATCH} scans x {run_length} consecutive slices",
        "augmentation": "random run of consecutive slices, left-right flip",
        "history": history,
        "metrics": {"held_out": held_metrics},
        "duration_s": {
            "data": round(t_data, 1),
            "train": round(t_train, 1),
            "threads": threads,
        },
    }
    manifest = build_manifest(MODEL_ID, version, config, net_config, weights, record)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    log(f"wrote {out} (weights sha256 {weights['sha256']})")
    return manifest


def run_cli(args: argparse.Namespace) -> None:
    """The ``train`` sub-command's entry (``inference.trainers.TRAINERS``)."""
    epochs = args.epochs if getattr(args, "epochs", None) is not None else EPOCHS
    run(
        args.out,
        n_cases=int(getattr(args, "n_cases", None) or N_CASES),
        epochs=int(epochs),
        seed=int(getattr(args, "seed", 0) or 0),
        threads=int(getattr(args, "threads", 2) or 2),
        version=str(getattr(args, "version", None) or "0.1.0"),
    )
