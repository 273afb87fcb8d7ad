"""Per-case CPU timings of the seed-000 pipeline: our explainers vs naive library defaults.

Usage (from the repository root; about 5-10 minutes on 2 cores):

    .venv/bin/python bench/inference/run.py [--variants demo,seed] [--threads 2]
        [--matrix 512] [--out bench/inference/last_run.json]
    .venv/bin/python bench/inference/run.py --model all [--model ID ...] [--device auto]
        [--repeats 2] [--max-calls 60] [--out bench/inference/last_run_models.json]

``--model`` (repeatable, or ``all`` = every registered model) switches to the per-model
bench of ``per_model.py`` (production ``predict`` with Grad-CAM for every label vs MONAI's
``GradCAM`` used naively); without it the seed-000 explainer bench below runs.

For each network variant - ``demo`` (the shipped weights) and ``seed`` (the seed's size: 32
initial kernels, LayerNorm, sliding-window segmentation; random weights, which do not change
the cost) - one synthetic CVST-ICH phantom at the seed's 5 mm setting is run through:
preprocessing, segmentation, classification, and every explainer with the manifest defaults
(what ``predict`` does), including the resampling of each map to the DICOM grid.

The ROI patch is cut around the phantom's ground-truth hematoma for both variants, so the
occlusion region (and hence its cost) is the same whatever the random seed-size segmenter
outputs.

Naive baselines, on the same patch and model (weights trainable, as a library user leaves
them):

* Grad-CAM++: ``monai.visualize.GradCAMpp`` on the same layer (full backward).
* IG: ``captum.attr.IntegratedGradients`` defaults (50 steps) on both input channels. The
  default ``internal_batch_size=None`` puts all 50 steps in one batch, which does not fit in
  memory for 3D volumes, so the steps run one per pass (``internal_batch_size=1``); k steps
  are timed and the time is extrapolated x 50/k.
* SHAP: ``captum.attr.GradientShap`` defaults (``n_samples=5``, one batch) over the same
  2-volume background; timed with ``n_samples=1`` and extrapolated x5 (one batch of 5 needs
  several GB at the seed size).
* Occlusion: ``monai.visualize.OcclusionSensitivity`` defaults (mask 16, overlap 0.6,
  gaussian, n_batch 16) over the whole patch; the number of windows is computed with
  MONAI's own window layout and the time extrapolated from a few batches.

Extrapolated figures are marked ``"extrapolated": true`` in the JSON and with ``~`` in the
table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see inference/__main__.py

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from inference import preprocess as pp  # noqa: E402
from inference.builtin import DEMO_DIR  # noqa: E402
from inference.explain import EXPLAINERS  # noqa: E402
from inference.geometry import to_grid  # noqa: E402
from inference.networks.classifier import build_classifier, build_segmenter  # noqa: E402
from inference.pipeline import CVSTICHPipeline, library_versions  # noqa: E402
from inference.train import VARIANTS  # noqa: E402


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def build(variant: str) -> CVSTICHPipeline:
    if variant == "demo":
        return CVSTICHPipeline.from_bundle(DEMO_DIR)
    manifest = json.loads((DEMO_DIR / "manifest.json").read_text())
    net = VARIANTS["seed"]["net"]
    arch = manifest["architecture"]["networks"]
    arch["segmentation"] = {**arch["segmentation"], **net}
    arch["classifier"] = {**arch["classifier"], **net}
    manifest["preprocessing"]["seg_window"] = list(VARIANTS["seed"]["seg_window"])
    torch.manual_seed(0)
    return CVSTICHPipeline(
        manifest, build_segmenter(arch["segmentation"]), build_classifier(arch["classifier"])
    )


class _Counted(nn.Module):
    """Counts forward volumes of a wrapped model; output (B, 1) for MONAI's CAM API."""

    def __init__(self, model, as_2d=False):
        super().__init__()
        self.model = model
        self.as_2d = as_2d
        self.forward_passes = 0

    def forward(self, x):
        self.forward_passes += int(x.shape[0])
        out = self.model(x)
        return out[:, None] if self.as_2d else out


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def fast_explainers(pipe, x, bbox_patch, patch_grid, input_grid):
    rows = {}
    for method in EXPLAINERS:
        params = pipe.explainer_params(method, None)
        t = time.perf_counter()
        att = pipe.explain(x, method, params, 1, bbox_patch, 0)
        to_grid(att.array, patch_grid, input_grid, "linear", 0.0).astype(np.float16)
        rows[method] = {
            "seconds": round(time.perf_counter() - t, 2),
            "explainer_seconds": round(att.seconds, 2),
            "forward": att.forward_passes,
            "backward": att.backward_passes,
            "params": {k: v for k, v in att.params.items() if k != "scale"},
            "extrapolated": False,
        }
        log(
            f"  fast {method}: {rows[method]['seconds']} s "
            f"({att.forward_passes} fwd / {att.backward_passes} bwd)"
        )
    return rows


def naive_explainers(model, x, background, ig_steps_timed: int, layer: str):
    from captum.attr import GradientShap, IntegratedGradients
    from monai.data.utils import dense_patch_slices
    from monai.inferers.utils import _get_scan_interval
    from monai.visualize import GradCAMpp, OcclusionSensitivity

    for p in model.parameters():
        p.requires_grad_(True)
    rows: dict[str, Any] = {}

    wrapped = _Counted(model, as_2d=True)
    cam = GradCAMpp(nn_module=wrapped, target_layers=f"model.{layer}")
    _, sec = timed(lambda: cam(x))
    rows["gradcampp"] = {
        "seconds": round(sec, 2),
        "forward": 1,
        "backward": 1,
        "extrapolated": False,
        "how": "monai GradCAMpp, full backward",
    }
    log(f"  naive gradcampp: {sec:.1f} s")

    ig = IntegratedGradients(_Counted(model))
    k = ig_steps_timed
    _, sec = timed(
        lambda: ig.attribute(x, baselines=torch.zeros_like(x), n_steps=k, internal_batch_size=1)
    )
    rows["ig"] = {
        "seconds": round(sec * 50 / k, 1),
        "forward": 50,
        "backward": 50,
        "extrapolated": True,
        "timed_steps": k,
        "timed_seconds": round(sec, 2),
        "how": "captum IG n_steps=50, one step per pass, both channels",
    }
    log(f"  naive ig: {k} steps {sec:.1f} s -> ~{rows['ig']['seconds']} s for 50")

    bg = torch.cat(
        [torch.from_numpy(background)[:, None], x[:, 1:].repeat(len(background), 1, 1, 1, 1)], 1
    )
    gs = GradientShap(_Counted(model))
    np.random.seed(0)
    torch.manual_seed(0)
    _, sec = timed(lambda: gs.attribute(x, baselines=bg, n_samples=1))
    rows["shap"] = {
        "seconds": round(sec * 5, 1),
        "forward": 5,
        "backward": 5,
        "extrapolated": True,
        "timed_samples": 1,
        "timed_seconds": round(sec, 2),
        "how": "captum GradientShap n_samples=5 (one batch)",
    }
    log(f"  naive shap: 1 sample {sec:.1f} s -> ~{rows['shap']['seconds']} s for 5")

    occ = OcclusionSensitivity(_Counted(model, as_2d=True))  # defaults
    mask = [16] * 3
    size = list(x.shape[2:])
    overlap = occ.overlap if isinstance(occ.overlap, (list, tuple)) else [occ.overlap] * 3
    interval = _get_scan_interval(size, mask, 3, overlap)
    n_windows = len(dense_patch_slices(size, mask, interval))
    box = [0, 15, 0, 39, 0, 39]  # a corner region: a few batches of windows
    counted = occ.nn_module
    assert isinstance(counted, _Counted)
    counted.forward_passes = 0
    _, sec = timed(lambda: occ(x, b_box=box))
    per = sec / max(counted.forward_passes, 1)
    rows["occlusion"] = {
        "seconds": round(per * n_windows, 1),
        "forward": n_windows,
        "backward": 0,
        "extrapolated": True,
        "timed_forward": counted.forward_passes,
        "timed_seconds": round(sec, 2),
        "how": "monai OcclusionSensitivity defaults over the whole patch",
    }
    log(
        f"  naive occlusion: {counted.forward_passes} windows {sec:.1f} s -> "
        f"~{rows['occlusion']['seconds']} s for {n_windows}"
    )

    rows["cbam"] = None  # no library default exists; same single forward pass as ours
    return rows


def run_variant(variant: str, case) -> dict:
    pipe = build(variant)
    log(
        f"{variant}: classifier {sum(p.numel() for p in pipe.classifier.parameters()) / 1e6:.2f} M "
        f"params, segmenter {sum(p.numel() for p in pipe.segmenter.parameters()) / 1e6:.2f} M"
    )
    cfg = pipe.cfg
    image = case.to_sitk()
    prep, t_prep = timed(lambda: pp.prepare(image, cfg))
    pipe.segment(prep.ct[:, :64, :64].copy())  # warm-up (first call is slower)
    prob, t_seg = timed(lambda: pipe.segment(prep.ct))
    truth = pp.mask_to_grid(case.mask, prep.input_grid, prep.grid)
    patch, start, bbox = pp.roi_patch(cfg, prep.ct, truth)
    x = torch.from_numpy(patch)[None]
    pipe.classify(x)
    _, t_cls = timed(lambda: pipe.classify(x))
    t_mask = timed(lambda: to_grid(prob, prep.grid, prep.input_grid, "linear", 0.0))[1]
    stages = {
        "preprocess": round(t_prep, 2),
        "segmentation": round(t_seg, 2),
        "classification": round(t_cls, 2),
        "mask_to_dicom_grid": round(t_mask, 2),
    }
    log(f"{variant}: stages {stages}")
    assert bbox is not None  # cut around the phantom's ground truth, never empty
    bbox_patch = (np.asarray(bbox[0]) - start, np.asarray(bbox[1]) - start)
    patch_grid = prep.grid.subgrid(start, cfg.patch_shape)
    fast = fast_explainers(pipe, x, bbox_patch, patch_grid, prep.input_grid)
    from inference.explain.shap import build_background

    background = build_background(patch[0], ("black", "blur"))
    layer = pipe.explainer_params("gradcampp", None)["layer"]
    naive = naive_explainers(pipe.classifier, x, background, 2 if variant == "seed" else 4, layer)
    fast_total = sum(r["seconds"] for r in fast.values())
    naive_total = sum(r["seconds"] for r in naive.values() if r) + fast["cbam"]["seconds"]
    return {
        "variant": variant,
        "parameters": {
            "segmenter": sum(p.numel() for p in pipe.segmenter.parameters()),
            "classifier": sum(p.numel() for p in pipe.classifier.parameters()),
        },
        "network": pipe.manifest()["architecture"]["classifier"],
        "seg_window": cfg.seg_window,
        "stages_s": stages,
        "fast": fast,
        "naive": naive,
        "explanation_set_s": {
            "fast": round(fast_total, 1),
            "naive": round(naive_total, 1),
            "speedup": round(naive_total / fast_total, 1),
        },
        "roi_bbox_in_patch": [[int(v) for v in bbox_patch[0]], [int(v) for v in bbox_patch[1]]],
    }


def table(results: list[dict]) -> str:
    lines = [
        "| step | "
        + " | ".join(f"{r['variant']} ours (s) | {r['variant']} naive (s)" for r in results)
        + " |"
    ]
    lines.append("|---" * (1 + 2 * len(results)) + "|")
    for stage in ("preprocess", "segmentation", "classification", "mask_to_dicom_grid"):
        lines.append(
            f"| {stage} | " + " | ".join(f"{r['stages_s'][stage]} | -" for r in results) + " |"
        )
    for m in EXPLAINERS:
        cells = []
        for r in results:
            f, n = r["fast"][m], r["naive"][m]
            naive = "-" if n is None else (("~" if n["extrapolated"] else "") + f"{n['seconds']}")
            cells.append(f"{f['seconds']} ({f['forward']}f/{f['backward']}b) | {naive}")
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    lines.append(
        "| **explanation set** | "
        + " | ".join(
            f"**{r['explanation_set_s']['fast']}** | **~{r['explanation_set_s']['naive']}** "
            f"(x{r['explanation_set_s']['speedup']})"
            for r in results
        )
        + " |"
    )
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", default="demo,seed")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--matrix", type=int, default=512, help="phantom in-plane matrix")
    ap.add_argument("--out", default=None, help="JSON output (default: last_run*.json here)")
    ap.add_argument("--model", action="append", default=[], help="model id (repeatable) or 'all'")
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda[:N], passed to predict")
    ap.add_argument("--repeats", type=int, default=2, help="timed predict calls per model")
    ap.add_argument(
        "--max-calls", type=int, default=60, help="naive GradCAM calls timed before extrapolating"
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    from phantoms import make_case

    case = make_case(777, "cvst_ich", matrix=args.matrix)
    log(f"case: {case.volume_hu.shape} voxels, spacing {case.spacing}")
    if args.model:
        return run_models(args, case)
    args.out = args.out or str(Path(__file__).with_name("last_run.json"))
    results = [run_variant(v, case) for v in args.variants.split(",")]
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "threads": args.threads,
        "cpu": platform.processor() or platform.machine(),
        "load_average_1_5_15": [round(v, 2) for v in __import__("os").getloadavg()],
        "libraries": library_versions(),
        "case": {
            "seed": 777,
            "label": "cvst_ich",
            "shape_zyx": list(case.volume_hu.shape),
            "spacing": list(case.spacing),
        },
        "setting": "5mm: grid [32, 256, 256] at 1x1x5 mm, patch [32, 128, 128]",
    }
    Path(args.out).write_text(
        json.dumps(
            {"meta": meta, "results": results},
            indent=2,
            default=lambda o: list(o) if isinstance(o, tuple) else str(o),
        )
    )
    print()
    print(table(results))
    print(f"\nwritten {args.out}; load average at the end {meta['load_average_1_5_15']}")
    for r in results:
        s = r["explanation_set_s"]
        ok = s["fast"] <= 120 and s["speedup"] >= 20
        print(
            f"{r['variant']}: explanation set {s['fast']} s (goal <= 120 s), "
            f"{s['speedup']}x faster than naive (goal >= 20x): {'met' if ok else 'NOT met'}"
        )
    return 0


def run_models(args, case) -> int:
    from per_model import run_model  # this directory is on sys.path when run as a script

    from inference.registry import list_models

    known = [m["id"] for m in list_models()]
    wanted = known if "all" in args.model else args.model
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise SystemExit(f"unknown model id(s) {unknown}; registered: {known}")
    image = case.to_sitk()
    rows = []
    for model_id in wanted:
        try:
            rows.append(
                run_model(model_id, image, args.threads, args.device, args.repeats, args.max_calls)
            )
        except Exception as exc:  # one model that cannot load must not stop the others
            log(f"{model_id}: not benchmarked: {type(exc).__name__}: {exc}")
            rows.append({"model": model_id, "error": f"{type(exc).__name__}: {exc}"})
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "threads": args.threads,
        "device": args.device,
        "cpu": platform.processor() or platform.machine(),
        "load_average_1_5_15": [round(v, 2) for v in os.getloadavg()],
        "libraries": library_versions(),
        "case": {
            "seed": 777,
            "label": "cvst_ich",
            "shape_zyx": list(case.volume_hu.shape),
            "spacing": list(case.spacing),
        },
    }
    out = Path(args.out or Path(__file__).with_name("last_run_models.json"))
    out.write_text(json.dumps({"meta": meta, "results": rows}, indent=2, default=str))
    print()
    print(models_table(rows))
    print(f"\nwritten {out}; load average at the end {meta['load_average_1_5_15']}")
    for r in rows:
        if r["model"] in GOALS and "production" in r:
            key, limit, text = GOALS[r["model"]]
            got = r["production"][key]
            verdict = "met" if got <= limit else "NOT met"
            print(f"{r['model']}: {got} {text} (goal <= {limit}): {verdict}")
    return 0


# the goals, on 2 CPU cores with Grad-CAM for all labels
GOALS = {
    "ich_subtypes_cnn_bigru": ("ms_per_slice", 90.0, "ms per slice"),  # seed 004
    "ich_subtypes_cnn_rnn3d": ("case_s", 30.0, "s per scan"),  # seed 002
}


def models_table(rows: list[dict]) -> str:
    lines = [
        "| model | slices | production s/case | ms/slice | naive (MONAI GradCAM) s/case "
        "| ms/slice | production / naive |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | not run: {r['error']} | | | | | |")
            continue
        p, n = r["production"], r["naive"]
        if n is None:
            naive = f"- ({r['naive_note']}) | - | -"
        else:
            mark = "~" if n["extrapolated"] else ""
            naive = (
                f"{mark}{n['case_s']} | {mark}{n['ms_per_slice']} | "
                f"{r['ratio_production_over_naive']}"
            )
        lines.append(
            f"| {r['model']} ({', '.join(r['explain'])}) | {r['n_slices']} | {p['case_s']} | "
            f"{p['ms_per_slice']} | {naive} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
