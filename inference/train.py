"""Train the seed-000 model on synthetic phantoms and write a model bundle.

Recipe (seed 000, scaled to a CPU demo):

1. Render phantoms (``phantoms.make_case``, balanced labels), preprocess exactly as
   inference does (5 mm setting: model grid [32, 256, 256] at 1x1x5 mm, HU 0-200 -> [0, 1]),
   split train / validation / test (stratified).
2. Pretrain the segmenter on random crops (mostly around the hematoma) with MONAI
   ``DiceCELoss`` and AdamW.
3. Transfer its encoder to the classifier; train on [CT, mask] ROI patches (ground-truth mask,
   random shift + left-right flip) with BCE and AdamW; keep the epoch with the best
   validation AUC (validation patches are built from *predicted* masks, as at inference).
4. Set the two operating points on the validation split by the seed's rules.
5. Write the bundle (safetensors + manifest), reload it through the public loader and run
   ``predict`` on the held-out test split: AUC (with bootstrap CI) and Dice of the mask on
   the original grid are written into the manifest.

Variants: ``seed`` = 32 initial kernels, LayerNorm, dropout 0.5, lr 1e-4 (the seed's
values; hours on CPU). ``demo`` = 8 kernels, BatchNorm (its running statistics make the
segmenter independent of the input size, so it can run on the whole grid after training on
crops), lr 1e-3: the seed's 1e-4 does not converge within the few CPU epochs a demo can
afford, so the rate is raised (documented in the manifest).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from . import metrics
from . import preprocess as pp
from .manifest import label_thresholds, sha256_file, validate_manifest
from .networks.classifier import CBAMClassifier
from .networks.unet import ConvBlock, UNet3D, UNetConfig

VARIANTS: dict[str, dict[str, Any]] = {
    "demo": {
        "net": {
            "features": 8,
            "depth": 4,
            "dilation": 2,
            "norm": "batch",
            "dropout": 0.2,
            "channel_gate": "sigmoid",
            "cbam_reduction": 4,
        },
        "head_grid": (2, 4, 4),
        "lr": 2e-3,
        "lr_seg": 3e-3,
        "epochs_seg": 8,
        "epochs_cls": 6,
        "batch_seg": 4,
        "batch_cls": 2,
        "seg_crop": (16, 64, 64),
        "seg_window": None,
        "freeze_blocks": 1,
    },
    "seed": {
        "net": {
            "features": 32,
            "depth": 4,
            "dilation": 2,
            "norm": "layer",
            "dropout": 0.5,
            "channel_gate": "sigmoid",
            "cbam_reduction": 8,
        },
        "head_grid": (2, 4, 4),
        "lr": 1e-4,
        "lr_seg": 1e-4,
        "epochs_seg": 100,
        "epochs_cls": 60,
        "batch_seg": 2,
        "batch_cls": 8,
        "seg_crop": (32, 128, 128),
        "seg_window": (32, 128, 128),
        "freeze_blocks": 0,
    },
}

EXPLAINER_DEFAULTS: dict[str, dict[str, Any]] = {
    "gradcampp": {
        "cost": "fast",
        "signed": False,
        "defaults": {"layer": "encoder.blocks.0"},
        "description": "Grad-CAM++ (element-wise weighting) of the predicted class at encoder block 1",
    },
    "ig": {
        "cost": "moderate",
        "signed": True,
        "defaults": {"n_steps": 16, "internal_batch_size": 2, "method": "gausslegendre"},
        "description": "Integrated Gradients, black baseline, logit of P(cvst_ich)",
    },
    "shap": {
        "cost": "moderate",
        "signed": True,
        "defaults": {
            "n_samples": 8,
            "batch_size": 2,
            "background": ["black", "blur"],
            "stdev": 0.0,
        },
        "description": "expected gradients (GradientShap) over a background set",
    },
    "occlusion": {
        "cost": "moderate",
        "signed": True,
        "defaults": {
            "window": [4, 16, 16],
            "stride": [4, 16, 16],
            "region": "bbox",
            "margin": [2, 8, 8],
            "batch_size": 4,
            "max_windows": 64,
        },
        "description": "logit drop when blocks inside the hematoma box are blacked out",
    },
    "cbam": {
        "cost": "fast",
        "signed": False,
        "defaults": {"blocks": [3, 4]},
        "description": "CBAM spatial attention of encoder blocks 3 and 4",
    },
}


@dataclass
class Case:
    case_id: str
    truth: int
    ct: np.ndarray  # float16 windowed CT on the model grid
    mask: np.ndarray  # uint8 ground truth on the model grid
    image: object  # SimpleITK input image (for end-to-end evaluation)
    mask_input: np.ndarray  # ground truth on the input grid


def log(msg: str) -> None:
    print(f"[train {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def make_cases(n: int, seed: int, matrix: int, cfg: pp.PreprocessConfig) -> list[Case]:
    from phantoms import LABELS, make_case

    cases = []
    for i in range(n):
        label = LABELS[i % 2]
        pc = make_case(seed * 100_000 + i, label, matrix=matrix)
        image = pc.to_sitk()
        prep = pp.prepare(image, cfg)
        mask = pp.mask_to_grid(pc.mask, prep.input_grid, prep.grid)
        cases.append(
            Case(pc.case_id, pc.truth, prep.ct.astype(np.float16), mask, image, np.asarray(pc.mask))
        )
    return cases


def split(cases: list[Case], val_frac: float, test_frac: float, seed: int) -> dict[str, list[Case]]:
    """Stratified train / validation / test split."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for truth in (1, 0):
        idx = [i for i, c in enumerate(cases) if c.truth == truth]
        rng.shuffle(idx)
        n_test = round(len(idx) * test_frac)
        n_val = round(len(idx) * val_frac)
        parts["test"] += idx[:n_test]
        parts["val"] += idx[n_test : n_test + n_val]
        parts["train"] += idx[n_test + n_val :]
    return {k: [cases[i] for i in sorted(v)] for k, v in parts.items()}


def _seg_crop(
    case: Case, crop_shape: npt.ArrayLike, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Half the crops around the hematoma, half anywhere in the head: the segmenter must
    also see scalp, sinuses and skull base (blood-like densities that are not hematoma)."""
    shape = np.asarray(case.ct.shape)
    cs = np.asarray(crop_shape)
    fg = np.argwhere(case.mask > 0)
    if len(fg) and rng.random() < 0.5:
        centre = fg[rng.integers(len(fg))] + rng.integers(-cs // 4, cs // 4 + 1)
    else:
        head = np.argwhere(case.ct[:, ::4, ::4] > 0.02) * np.array([1, 4, 4])
        centre = head[rng.integers(len(head))] if len(head) else shape // 2
    start = np.clip(centre - cs // 2, 0, np.maximum(shape - cs, 0))
    ct = pp.crop(case.ct.astype(np.float32), start, cs)
    mask = pp.crop(case.mask, start, cs).astype(np.float32)
    if rng.random() < 0.5:
        ct, mask = ct[..., ::-1], mask[..., ::-1]
    return ct, mask


def _cls_patch(cfg: pp.PreprocessConfig, case: Case, rng: np.random.Generator) -> np.ndarray:
    bbox = pp.roi_bbox(case.mask, cfg.roi_min_component_fraction)
    if bbox is None:
        centre: np.ndarray = np.asarray(cfg.grid_shape) // 2
        bbox = (centre, centre + 1)
    jitter = np.concatenate([[0], rng.integers(-12, 13, size=2)])
    start = pp.patch_start((bbox[0] + jitter, bbox[1] + jitter), cfg.patch_shape, case.ct.shape)
    patch = np.stack(
        [
            pp.crop(case.ct.astype(np.float32), start, cfg.patch_shape),
            pp.crop(case.mask, start, cfg.patch_shape).astype(np.float32),
        ]
    )
    if rng.random() < 0.5:
        patch = patch[..., ::-1]
    return np.ascontiguousarray(patch)


def train_segmenter(
    seg: UNet3D, cases: list[Case], variant: dict[str, Any], epochs: int, lr: float, seed: int
) -> list[float]:
    from monai.losses import DiceCELoss

    rng = np.random.default_rng(seed)
    # batch=True: Dice over the whole batch, so crops without hematoma do not yield a
    # meaningless per-sample Dice of ~0; the output bias starts at a low prior (sigmoid ~0.05)
    # because hematoma is a small fraction of voxels.
    loss_fn = DiceCELoss(sigmoid=True, batch=True)
    with torch.no_grad():
        if seg.head.bias is not None:  # the head is built with a bias
            seg.head.bias.fill_(-3.0)
    opt = torch.optim.AdamW(seg.parameters(), lr=lr)
    seg.train()
    history: list[float] = []
    bs = variant["batch_seg"]
    for epoch in range(epochs):
        order = rng.permutation(len(cases))
        losses = []
        for i in range(0, len(order), bs):
            crops = [_seg_crop(cases[j], variant["seg_crop"], rng) for j in order[i : i + bs]]
            x = torch.from_numpy(np.stack([c[0] for c in crops])[:, None].copy())
            y = torch.from_numpy(np.stack([c[1] for c in crops])[:, None].copy())
            opt.zero_grad()
            loss = loss_fn(seg(x), y)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        history.append(float(np.mean(losses)))
        log(f"segmentation epoch {epoch + 1}/{epochs}: DiceCE {history[-1]:.4f}")
    seg.eval()
    return history


def _predict_masks(seg: UNet3D, cases: list[Case], cfg: pp.PreprocessConfig) -> list[np.ndarray]:
    from .pipeline import segment_volume

    return [(segment_volume(seg, c.ct, cfg) >= cfg.mask_threshold).astype(np.uint8) for c in cases]


def _scores(clf: CBAMClassifier, patches: list[np.ndarray]) -> np.ndarray:
    clf.eval()
    with torch.inference_mode():
        logits = [float(clf(torch.from_numpy(p)[None])[0]) for p in patches]
    scores: np.ndarray = 1.0 / (1.0 + np.exp(-np.asarray(logits)))
    return scores


def freeze_first_blocks(clf: CBAMClassifier, n: int) -> None:
    """Keep the first ``n`` transferred encoder blocks fixed (CPU budget: no backward pass
    through the full-resolution level). The mask channel's first kernels, which have no
    pretrained counterpart, start as a copy of the CT channel's, so a mask voxel excites the
    same pretrained filters as a very dense CT voxel instead of random ones."""
    if n <= 0:
        return
    with torch.no_grad():
        w = cast(ConvBlock, clf.encoder.blocks[0]).conv1.weight
        w[:, 1:] = w[:, :1]
    for block in clf.encoder.blocks[:n]:
        for p in block.parameters():
            p.requires_grad_(False)


def _set_train(clf: CBAMClassifier, frozen: int) -> None:
    clf.train()
    for block in clf.encoder.blocks[:frozen]:
        block.eval()  # frozen blocks keep their BatchNorm statistics too


def balanced_batches(cases: list[Case], size: int, rng: np.random.Generator) -> list[list[Case]]:
    """Shuffled batches with equal numbers of each class (``size`` must be even): with tiny
    batches this removes most of the gradient noise that comes from class composition, and
    it made the demo classifier converge in a few epochs instead of not at all."""
    if size % 2:
        raise ValueError("classifier batch size must be even for balanced batches")
    pos = [c for c in cases if c.truth == 1]
    neg = [c for c in cases if c.truth == 0]
    rng.shuffle(pos)
    rng.shuffle(neg)
    half = size // 2
    n = min(len(pos), len(neg)) // half
    return [pos[i * half : (i + 1) * half] + neg[i * half : (i + 1) * half] for i in range(n)]


def train_classifier(
    clf: CBAMClassifier,
    train_cases: list[Case],
    val_patches: list[np.ndarray],
    val_y: list[int],
    cfg: pp.PreprocessConfig,
    variant: dict[str, Any],
    epochs: int,
    lr: float,
    seed: int,
) -> tuple[list[dict[str, float]], int]:
    rng = np.random.default_rng(seed + 1)
    loss_fn = nn.BCEWithLogitsLoss()
    frozen = variant.get("freeze_blocks", 0)
    freeze_first_blocks(clf, frozen)
    opt = torch.optim.AdamW([p for p in clf.parameters() if p.requires_grad], lr=lr)
    bs = variant["batch_cls"]
    best: tuple[float, dict[str, torch.Tensor] | None, int] = (-1.0, None, -1)
    history: list[dict[str, float]] = []
    for epoch in range(epochs):
        _set_train(clf, frozen)
        losses = []
        for batch in balanced_batches(train_cases, bs, rng):
            x = torch.from_numpy(np.stack([_cls_patch(cfg, c, rng) for c in batch]))
            y = torch.tensor([float(c.truth) for c in batch])
            opt.zero_grad()
            loss = loss_fn(clf(x), y)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        val_auc = metrics.roc_auc(val_y, _scores(clf, val_patches))
        history.append({"loss": float(np.mean(losses)), "val_auc": val_auc})
        log(
            f"classifier epoch {epoch + 1}/{epochs}: BCE {history[-1]['loss']:.4f} val AUC {val_auc:.3f}"
        )
        if val_auc > best[0]:
            best = (
                val_auc,
                {k: v.detach().clone() for k, v in clf.state_dict().items()},
                epoch + 1,
            )
    if best[1] is not None:  # no epoch (epochs=0): the weights stay as they are
        clf.load_state_dict(best[1])
    clf.eval()
    return history, best[2]


def _save_weights(module: nn.Module, path: Path) -> dict[str, Any]:
    from safetensors.torch import save_file

    state = {k: v.detach().contiguous().clone() for k, v in module.state_dict().items()}
    save_file(state, str(path), metadata={"format": "pt"})
    return {
        "file": path.name,
        "format": "safetensors",
        "sha256": sha256_file(path),
        "bytes": path.stat().st_size,
    }


LABELS = [
    {
        "name": "cvst_ich",
        "display": "CVST-ICH",
        "description": "intracerebral haemorrhage secondary to cerebral venous sinus thrombosis",
    },
    {
        "name": "sich",
        "display": "sICH",
        "description": "spontaneous (primary) intracerebral haemorrhage",
    },
]


def build_manifest(
    model_id: str,
    version: str,
    variant_name: str,
    variant: dict[str, Any],
    cfg: pp.PreprocessConfig,
    seg_cfg: UNetConfig,
    cls_cfg: UNetConfig,
    weights: list[dict[str, Any]],
    ops: dict[str, Any],
    training: dict[str, Any],
) -> dict[str, Any]:
    n_params = training.pop("_params")
    return {
        "schema_version": "2.0",
        "id": model_id,
        "version": version,
        "name": "CVST-ICH vs sICH, seed-000 architecture (demo weights, synthetic data)"
        if variant_name == "demo"
        else "CVST-ICH vs sICH, seed-000 architecture",
        "description": (
            "3D U-Net + CBAM hematoma segmentation, then the transferred encoder + FC + sigmoid "
            "on a [CT, mask] ROI patch. Trained on synthetic phantoms only: a demonstration "
            "model, not a medical device; never use for patient care."
        ),
        "license": "Apache-2.0",
        "authors": ["readerstudy contributors"],
        "citation": "Architecture after Yang, Xu et al., eClinicalMedicine 2025;81:103128 "
        "(doi 10.1016/j.eclinm.2025.103128); re-implemented, weights not theirs.",
        "intended_use": "software testing and reader-study demonstrations",
        "task": "segmentation+classification",
        "architecture": {
            "name": "cvst_unet_cbam_v1",
            "variant": variant_name,
            "parameters": n_params,
            "networks": {"segmentation": seg_cfg.to_dict(), "classifier": cls_cfg.to_dict()},
        },
        "labels": LABELS,
        "heads": [
            {
                "name": "cvst_ich",
                "kind": "binary",
                "labels": ["cvst_ich", "sich"],
                "positive": "cvst_ich",
                "slice_level": False,
            }
        ],
        "positive_label": "cvst_ich",
        "probability": "P(cvst_ich): sigmoid of the classifier logit; label 1 = CVST-ICH",
        "operating_points": ops,
        "default_operating_point": "high_sensitivity",
        "input": {
            "modality": "CT",
            "body_part": "HEAD",
            "units": "HU",
            "contrast": "none",
            "min_slices": 16,
            "max_slice_thickness_mm": 6.0,
            "array_order": "(z, y, x) with ITK/LPS geometry; any orientation",
            "notes": "non-contrast head CT series; outputs are returned on the input grid",
        },
        "preprocessing": {
            **cfg.to_dict(),
            "summary": (
                f"resample (linear) to {cfg.spacing} mm (x, y, z) on a {list(cfg.grid_shape)} "
                "(z, y, x) grid centred on the head; HU window 0-200 -> [0, 1]; segmentation "
                "prob >= 0.5; ROI patch centred on the hematoma bounding box"
            ),
        },
        "output": {
            "probabilities": True,
            "mask": True,
            "slice_probabilities": False,
            "heatmaps": list(EXPLAINER_DEFAULTS),
            "grid": "input series grid",
        },
        "explainers": EXPLAINER_DEFAULTS,
        "weights": weights,
        "requirements": {
            "python": ">=3.11",
            "torch": ">=2.8",
            "monai": ">=1.6",
            "captum": ">=0.9",
            "device": "cpu",
            "max_memory_gb": 4,
        },
        "training": training,
    }


def evaluate_bundle(bundle_dir: Path, cases: list[Case], threads: int | None) -> dict[str, Any]:
    """End-to-end through the public loader: AUC and Dice on the original grids."""
    from .pipeline import CVSTICHPipeline

    pipe = CVSTICHPipeline.from_bundle(bundle_dir)
    probs: list[float] = []
    dices: list[float] = []
    rows: list[dict[str, Any]] = []
    for c in cases:
        pred = pipe.predict(c.image, options={"threads": threads})
        p = pred.headline_probability()
        assert pred.mask is not None  # the seed-000 model segments
        d = metrics.dice(pred.mask, c.mask_input)
        probs.append(p)
        dices.append(d)
        rows.append(
            {"case_id": c.case_id, "truth": c.truth, "p_cvst_ich": round(p, 4), "dice": round(d, 4)}
        )
    y = [c.truth for c in cases]
    auc = metrics.roc_auc(y, probs)
    ci = metrics.bootstrap_auc_ci(y, probs)
    at_ops = {
        op: metrics.confusion(y, probs, label_thresholds(pipe.manifest(), op)["cvst_ich"])
        for op in pipe.thresholds
    }
    return {
        "auc": round(auc, 4),
        "auc_95ci_bootstrap": [round(v, 4) for v in ci],
        "dice_mean": round(float(np.mean(dices)), 4),
        "dice_sd": round(float(np.std(dices)), 4),
        "dice_median": round(float(np.median(dices)), 4),
        "at_operating_points": at_ops,
        "cases": rows,
    }


def run(
    out: str | Path,
    n_cases: int = 200,
    seed: int = 0,
    variant: str = "demo",
    epochs_seg: int | None = None,
    epochs_cls: int | None = None,
    lr: float | None = None,
    matrix: int = 128,
    setting: str = "5mm",
    val_frac: float = 0.2,
    test_frac: float = 0.2,
    threads: int = 2,
    model_id: str = "cvst_ich_demo",
    version: str = "0.1.0",
) -> dict[str, Any]:
    t0 = time.perf_counter()
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    v = VARIANTS[variant]
    n_seg: int = v["epochs_seg"] if epochs_seg is None else epochs_seg
    n_cls: int = v["epochs_cls"] if epochs_cls is None else epochs_cls
    lr_seg: float = v["lr_seg"] if lr is None else lr
    lr_cls: float = v["lr"] if lr is None else lr
    cfg = _preprocess_config(v, setting)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    log(f"rendering {n_cases} phantoms (matrix {matrix}, {setting} setting)")
    cases = make_cases(n_cases, seed, matrix, cfg)
    parts = split(cases, val_frac, test_frac, seed)
    t_data = time.perf_counter() - t0
    log(str({k: len(p) for k, p in parts.items()}))

    seg_cfg = UNetConfig(in_channels=1, out_channels=1, **v["net"])
    cls_cfg = UNetConfig(in_channels=2, out_channels=1, head_grid=v["head_grid"], **v["net"])
    seg = UNet3D(seg_cfg)
    t = time.perf_counter()
    seg_hist = train_segmenter(seg, parts["train"], v, n_seg, lr_seg, seed)
    t_seg = time.perf_counter() - t

    t = time.perf_counter()
    val_dice, val_patches = _validate_segmenter(seg, parts["val"], cfg)
    val_y = [c.truth for c in parts["val"]]
    clf = CBAMClassifier(cls_cfg)
    clf.transfer_encoder(seg)
    cls_hist, best_epoch = train_classifier(
        clf, parts["train"], val_patches, val_y, cfg, v, n_cls, lr_cls, seed
    )
    t_cls = time.perf_counter() - t
    val_scores = _scores(clf, val_patches)
    val_auc = metrics.roc_auc(val_y, val_scores)
    ops = _validation_operating_points(val_y, val_scores)
    log(f"validation AUC {val_auc:.3f}; operating points {ops}")

    weights = [
        {"role": "segmentation", **_save_weights(seg, out / "segmentation.safetensors")},
        {"role": "classifier", **_save_weights(clf, out / "classifier.safetensors")},
    ]
    training = _training_record(
        n_cases=n_cases,
        matrix=matrix,
        seed=seed,
        variant=variant,
        v=v,
        parts=parts,
        lr_seg=lr_seg,
        lr=lr_cls,
        epochs=(n_seg, n_cls, best_epoch),
        history=(seg_hist, cls_hist),
        validation_metrics={
            "validation_auc": round(val_auc, 4),
            "validation_dice_model_grid": round(val_dice, 4),
        },
        params=(seg, clf),
    )
    manifest = build_manifest(
        model_id, version, variant, v, cfg, seg_cfg, cls_cfg, weights, ops, training
    )
    _write_manifest(out, manifest)

    t = time.perf_counter()
    log(f"evaluating the written bundle end-to-end on {len(parts['test'])} held-out cases")
    test = evaluate_bundle(out, parts["test"], threads)
    t_test = time.perf_counter() - t
    manifest["training"]["metrics"].update(_test_metrics(test))
    total = time.perf_counter() - t0
    manifest["training"]["duration_s"] = {
        "data": round(t_data, 1),
        "segmentation": round(t_seg, 1),
        "classifier": round(t_cls, 1),
        "test": round(t_test, 1),
        "total": round(total, 1),
        "threads": threads,
    }
    manifest["training"]["test_cases"] = test["cases"]
    _write_manifest(out, manifest)
    log(
        f"test AUC {test['auc']} CI {test['auc_95ci_bootstrap']}, Dice {test['dice_mean']} "
        f"+- {test['dice_sd']}; total {total:.0f} s"
    )
    return manifest


def _preprocess_config(v: dict[str, Any], setting: str) -> pp.PreprocessConfig:
    """The setting's preset, with the variant's segmentation window where it has one."""
    cfg = pp.PreprocessConfig.preset(setting)
    if v["seg_window"] is not None:
        window = tuple(min(a, b) for a, b in zip(v["seg_window"], cfg.grid_shape))
        cfg = dataclasses.replace(cfg, seg_window=window)
    return cfg


def _validate_segmenter(
    seg: UNet3D, val_cases: list[Case], cfg: pp.PreprocessConfig
) -> tuple[float, list[np.ndarray]]:
    """Mean Dice of the predicted validation masks (model grid), and the classifier's
    validation patches built from those predicted masks (as at inference)."""
    val_masks = _predict_masks(seg, val_cases, cfg)
    val_dice = float(np.mean([metrics.dice(m, c.mask) for m, c in zip(val_masks, val_cases)]))
    log(f"validation Dice (model grid) {val_dice:.3f}")
    val_patches = [
        pp.roi_patch(cfg, c.ct.astype(np.float32), m)[0] for c, m in zip(val_cases, val_masks)
    ]
    return val_dice, val_patches


_OPERATING_RULES = {
    "high_sensitivity": "highest sensitivity with specificity >= 0.8 (validation split)",
    "high_specificity": "highest specificity with sensitivity >= 0.8 (validation split)",
}


def _validation_operating_points(
    val_y: npt.ArrayLike, val_scores: npt.ArrayLike
) -> dict[str, dict[str, Any]]:
    """The manifest's operating points, set on the validation split by the seed's rules."""
    out: dict[str, dict[str, Any]] = {}
    for name, r in metrics.operating_points(val_y, val_scores).items():
        if r is None:
            raise ValueError(f"no threshold on the validation split meets the {name} rule")
        out[name] = {
            "threshold": round(r["threshold"], 6),
            "rule": _OPERATING_RULES[name],
            "validation": {k: r[k] for k in ("tp", "fn", "fp", "tn", "sensitivity", "specificity")},
        }
    return out


def _training_record(
    *,
    n_cases: int,
    matrix: int,
    seed: int,
    variant: str,
    v: dict[str, Any],
    parts: dict[str, list[Case]],
    lr_seg: float,
    lr: float,
    epochs: tuple[int, int, int],
    history: tuple[list[float], list[dict[str, float]]],
    validation_metrics: dict[str, float],
    params: tuple[nn.Module, nn.Module],
) -> dict[str, Any]:
    """The manifest's ``training`` section: data, recipe, history and validation metrics.

    ``epochs``: (segmentation, classifier, classifier epoch selected); ``history``:
    (segmentation losses, classifier epochs); ``params``: (segmenter, classifier)."""
    from phantoms import GENERATOR_VERSION

    epochs_seg, epochs_cls, best_epoch = epochs
    seg_hist, cls_hist = history
    seg, clf = params
    return {
        "synthetic": True,
        "data": (
            f"readerstudy phantoms generator {GENERATOR_VERSION}: {n_cases} synthetic head CTs "
            f"(matrix {matrix}, ~230 mm FOV, 4.5-5.5 mm slices), labels alternating cvst_ich/sich, "
            f"case seeds {seed * 100_000}..{seed * 100_000 + n_cases - 1}"
        ),
        "split": {k: {"n": len(p), "cvst_ich": sum(c.truth for c in p)} for k, p in parts.items()},
        "seed": seed,
        "variant": variant,
        "optimizer": f"AdamW, lr {lr_seg:g} (segmentation) / {lr:g} (classifier)"
        + (" - raised from the seed's 1e-4 for the tiny CPU demo" if lr != 1e-4 else ""),
        "frozen_encoder_blocks": v.get("freeze_blocks", 0),
        "losses": {
            "segmentation": "MONAI DiceCELoss(sigmoid=True, batch=True)",
            "classifier": "BCEWithLogits",
        },
        "epochs": {
            "segmentation": epochs_seg,
            "classifier": epochs_cls,
            "classifier_selected": best_epoch,
        },
        "batch_size": {"segmentation": v["batch_seg"], "classifier": v["batch_cls"]},
        "segmentation_crop": list(v["seg_crop"]),
        "augmentation": "random crop/shift, left-right flip",
        "classifier_batches": "class-balanced (equal cvst_ich and sich per batch)",
        "history": {
            "segmentation_dicece": [round(x, 4) for x in seg_hist],
            "classifier": [{k: round(val, 4) for k, val in h.items()} for h in cls_hist],
        },
        "metrics": validation_metrics,
        "_params": {
            "segmentation": sum(p.numel() for p in seg.parameters()),
            "classifier": sum(p.numel() for p in clf.parameters()),
        },
    }


def _test_metrics(test: dict[str, Any]) -> dict[str, Any]:
    """The held-out test results added to the manifest's training metrics."""
    return {
        "test_auc": test["auc"],
        "test_auc_95ci_bootstrap": test["auc_95ci_bootstrap"],
        "test_dice_mean": test["dice_mean"],
        "test_dice_sd": test["dice_sd"],
        "test_dice_median": test["dice_median"],
        "test_at_operating_points": test["at_operating_points"],
        "dice_grid": "original (input) grid of each case",
    }


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    validate_manifest(json.loads(json.dumps(manifest)))
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def run_cli(args: argparse.Namespace) -> dict[str, Any]:
    """The ``train`` sub-command's entry for ``cvst_ich_demo`` (``inference.trainers``)."""
    return run(
        args.out,
        n_cases=200 if args.n_cases is None else args.n_cases,
        seed=args.seed,
        variant=getattr(args, "variant", "demo"),
        epochs_seg=getattr(args, "epochs_seg", None),
        epochs_cls=args.epochs,
        lr=getattr(args, "lr", None),
        matrix=getattr(args, "matrix", 128),
        setting=getattr(args, "setting", "5mm"),
        threads=args.threads,
        model_id=args.model_id,
        version=args.version,
    )
