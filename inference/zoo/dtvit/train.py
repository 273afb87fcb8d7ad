"""Train the dual-task ViT on phantom slices and write its bundle.

Recipe (seed 003 scaled to two CPU cores): slices of case seeds 0..n-1 (80 % of the cases
train, the last 20 % select the epoch: split by case, not by image as the seed did, whose
image-level split puts near-identical neighbouring slices of one series on both sides),
class balance by replication (:func:`data.balanced_indices`), augmentation as the seed
(random rotation within 15 degrees; plus a left-right flip, which keeps every label), SGD
with momentum at the seed's learning rate 0.01 (linear warm-up for one epoch, then cosine),
loss = BCE(ICH) + cross-entropy(location, intraparenchymal slices only). The weights are
written as safetensors with a manifest; a held-out evaluation on case seeds >= 100000 is
recorded in the manifest.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from ... import metrics
from ...manifest import sha256_file
from ..slices import SEED004_WINDOWS, SliceConfig
from . import data as D
from .aggregate import scan_ich, scan_location
from .manifest import build_manifest
from .network import LOCATIONS, DTViT, DTViTConfig

HELD_OUT_FIRST = 100_000
WEIGHTS_FILE = "dtvit.safetensors"
AIR_HU = -1024.0
DEFAULTS = {"n_cases": 80, "epochs": 10}
OPTIMIZERS = {"sgd": 0.01, "adamw": 1e-3}  # default learning rates: the seed's SGD 0.01


def slice_config(config: DTViTConfig) -> SliceConfig:
    return SliceConfig(SEED004_WINDOWS, (config.img_size, config.img_size), "imagenet")


def augment(hu: torch.Tensor, gen: torch.Generator, max_deg: float = 15.0) -> torch.Tensor:
    """Random rotation (within ``max_deg``) and left-right flip of (B, h, w) HU slices."""
    b = hu.shape[0]
    angle = (torch.rand(b, generator=gen) * 2 - 1) * math.radians(max_deg)
    flip = torch.where(torch.rand(b, generator=gen) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = cos * flip
    theta[:, 0, 1] = -sin
    theta[:, 1, 0] = sin * flip
    theta[:, 1, 1] = cos
    x = (hu - AIR_HU).unsqueeze(1)  # air -> 0, the padding value
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out.squeeze(1) + AIR_HU


def predict_slices(
    model: DTViT, images: np.ndarray, batch_size: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """(P(ich) (n,), location distributions (n, 3)) of normalised (n, 3, h, w) slices."""
    model.eval()
    p_ich, p_loc = [], []
    with torch.no_grad():
        for i in range(0, len(images), batch_size):
            ich, loc = model(torch.from_numpy(np.ascontiguousarray(images[i : i + batch_size])))
            p_ich.append(torch.sigmoid(ich).numpy())
            p_loc.append(torch.softmax(loc, dim=-1).numpy())
    return np.concatenate(p_ich), np.concatenate(p_loc)


def evaluate(
    model: DTViT, data: D.SliceSet, plans: list[D.CasePlan], cfg: SliceConfig
) -> dict[str, Any]:
    """Slice and scan metrics on rendered cases (the plugin's aggregation)."""
    p_ich, p_loc = predict_slices(model, D.to_input(data.hu, cfg))
    out: dict[str, Any] = {"n_cases": len(plans), "n_slices": len(data)}
    out["slice_auc_ich"] = metrics.roc_auc(data.ich, p_ich)
    iph = data.location >= 0
    out["slice_location_accuracy"] = float(np.mean(p_loc[iph].argmax(1) == data.location[iph]))
    truth, scores, loc_right, top_right = [], [], [], []
    for i, plan in enumerate(plans):
        sel = data.case == i
        truth.append(1 if plan.subtypes else 0)
        scores.append(scan_ich(p_ich[sel]))
        if plan.location:
            want = LOCATIONS.index(plan.location)
            loc_right.append(int(scan_location(p_ich[sel], p_loc[sel]).argmax() == want))
            top_right.append(int(p_loc[sel][p_ich[sel].argmax()].argmax() == want))
    out["scan_auc_ich"] = metrics.roc_auc(truth, scores)
    out["scan_location_accuracy"] = float(np.mean(loc_right)) if loc_right else None
    out["scan_location_accuracy_top_slice"] = float(np.mean(top_right)) if top_right else None
    out["n_iph_cases"] = len(loc_right)
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


def _loss(model: DTViT, x: torch.Tensor, ich: torch.Tensor, loc: torch.Tensor) -> torch.Tensor:
    ich_logit, loc_logits = model(x)
    loss = F.binary_cross_entropy_with_logits(ich_logit, ich)
    if bool((loc >= 0).any()):
        loss = loss + F.cross_entropy(loc_logits, loc, ignore_index=-1)
    return loss


def train(
    out: str | Path,
    n_cases: int = 80,
    seed: int = 0,
    epochs: int = 8,
    lr: float | None = None,
    optimizer: str = "adamw",
    batch_size: int = 16,
    threads: int = 2,
    matrix: int = 128,
    held_out: int = 30,
    version: str = "0.1.0",
    config: DTViTConfig | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Train, select the epoch on the validation cases, write the bundle into ``out``."""
    t0 = time.perf_counter()
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    config = config or DTViTConfig()
    cfg = slice_config(config)
    plans = D.training_plan(n_cases, seed)
    n_val = max(2, n_cases // 5)
    train_plans, val_plans = plans[:-n_val], plans[-n_val:]
    train_data = D.render_slices(train_plans, cfg, matrix)
    val_data = D.render_slices(val_plans, cfg, matrix)
    t_data = time.perf_counter() - t0
    log(f"data: {len(train_data)} train / {len(val_data)} val slices ({t_data:.0f} s)")

    model = DTViT(config)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {optimizer!r}")
    lr = OPTIMIZERS[optimizer] if lr is None else lr
    opt: torch.optim.Optimizer
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    per_epoch = len(D.balanced_indices(train_data, np.random.default_rng(0))) // batch_size
    total, warm = epochs * per_epoch, per_epoch

    def schedule(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    best: dict[str, Any] = {"score": -1.0}
    history = []
    for epoch in range(epochs):
        model.train()
        order = D.balanced_indices(train_data, rng)
        losses = []
        for b in range(per_epoch):
            idx = np.sort(order[b * batch_size : (b + 1) * batch_size])
            hu = augment(torch.from_numpy(train_data.hu[idx].astype(np.float32)), gen)
            x = torch.from_numpy(D.to_input(hu.numpy(), cfg))
            loss = _loss(
                model,
                x,
                torch.from_numpy(train_data.ich[idx]),
                torch.from_numpy(train_data.location[idx]),
            )
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
        val = evaluate(model, val_data, val_plans, cfg)
        score = val["slice_auc_ich"] + val["slice_location_accuracy"]
        history.append({"epoch": epoch + 1, "loss": round(float(np.mean(losses)), 4), **val})
        log(f"epoch {epoch + 1}: {history[-1]} ({time.perf_counter() - t0:.0f} s)")
        if score > best["score"]:
            best = {
                "score": score,
                "epoch": epoch + 1,
                "state": {
                    k: v.detach().clone().contiguous() for k, v in model.state_dict().items()
                },
            }
    t_train = time.perf_counter() - t0 - t_data
    model.load_state_dict(best["state"])

    held_plans = D.training_plan(held_out, seed + 1, first_case=HELD_OUT_FIRST)
    held = evaluate(model, D.render_slices(held_plans, cfg, matrix), held_plans, cfg)
    log(f"held-out: {held}")

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_file(best["state"], str(out / WEIGHTS_FILE), metadata={"model": "ich_location_dtvit"})
    training = {
        "synthetic": True,
        "data": (
            f"readerstudy phantoms (phantoms.subtype_case, matrix {matrix}, thick series): "
            f"case seeds 0..{n_cases - 1}: normal heads where plan_cases(n, {seed}, "
            f"{D.NORMAL_FRACTION}) has them, else one intraparenchymal haematoma, the three "
            "locations in turn"
        ),
        "split": {
            "by": "case",
            "train": {"cases": len(train_plans), "slices": len(train_data)},
            "val": {"cases": len(val_plans), "slices": len(val_data)},
        },
        "seed": seed,
        "optimizer": (
            f"SGD momentum 0.9, lr {lr} (seed 003), weight decay 1e-4"
            if optimizer == "sgd"
            else f"AdamW lr {lr}, weight decay 0.05 (the seed's SGD learns too slowly for a CPU budget)"
        )
        + "; 1 epoch linear warm-up, then cosine",
        "batch_size": batch_size,
        "epochs": epochs,
        "epoch_selected": best["epoch"],
        "selection": "validation slice AUC(ich) + slice location accuracy",
        "balance": "replication: locations ~1:1:1, ICH vs no ICH ~1:1 (seed 003)",
        "augmentation": "random rotation within 15 degrees, left-right flip",
        "losses": "BCE-with-logits (ich) + cross-entropy (location, intraparenchymal slices)",
        "history": history,
        "metrics": {
            "held_out": {
                "cases": f"case seeds {HELD_OUT_FIRST}..{HELD_OUT_FIRST + held_out - 1} "
                f"(plan seed {seed + 1}); never seen in training",
                **held,
            }
        },
        "duration_s": {
            "data": round(t_data, 1),
            "train": round(t_train, 1),
            "total": round(time.perf_counter() - t0, 1),
            "threads": threads,
        },
    }
    weights = [
        {
            "role": "dtvit",
            "file": WEIGHTS_FILE,
            "format": "safetensors",
            "sha256": sha256_file(out / WEIGHTS_FILE),
            "bytes": (out / WEIGHTS_FILE).stat().st_size,
        }
    ]
    n_params = sum(int(v.numel()) for v in best["state"].values())
    manifest = build_manifest(config, cfg, weights, training, version, n_params)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"wrote {out} ({time.perf_counter() - t0:.0f} s)")
    return manifest


def run_cli(args: Any) -> None:
    """``python -m inference train --model-id ich_location_dtvit --out DIR [...]``."""

    def arg(name: str, default: Any) -> Any:
        value = getattr(args, name, None)
        return default if value is None else value

    train(
        args.out,
        n_cases=arg("n_cases", DEFAULTS["n_cases"]),
        seed=arg("seed", 0),
        epochs=arg("epochs", DEFAULTS["epochs"]),
        lr=arg("lr", None),
        threads=arg("threads", 2),
        matrix=arg("matrix", 128),
        version=arg("version", "0.1.0"),
    )
