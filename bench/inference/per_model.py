"""Per-model timings: the production ``predict`` with Grad-CAM for every label, side by side
with MONAI's ``GradCAM`` used naively on the same network and layer.

Production: ``model.predict(image, options=PredictOptions(explain=..., threads=...,
device=...))``, exactly as ``readerstudy/ai/runner.py`` calls it, with the model's Grad-CAM
explainer (``gradcam``; ``gradcampp`` for the seed-000 model; the model's own explainers when
it has no Grad-CAM) for every label its manifest covers. Timed ``repeats`` times after one
warm-up call; the median is reported.

Naive: the same ``predict`` without explainers (timed the same way), plus
``monai.visualize.GradCAM`` on the same network and target layer, one call (= one
forward + one full backward, weights trainable as a library user leaves them) per slice per
label per ensemble member. For a model whose slices interact (a sequence model over the
scan), each call forwards the whole scan and back-propagates one slice's logit. The naive
maps are not resampled to the input grid (which favours the naive side); when there are more than ``max_calls`` calls, ``max_calls`` are timed and the
total is extrapolated (``"extrapolated": true``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

GRADCAM_LIKE = ("gradcam", "gradcampp")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class _Logits(nn.Module):
    """(batch, n_labels) logits from a network whose output is a tensor or a tuple."""

    def __init__(self, model: nn.Module, pick: Callable[[Any], torch.Tensor]):
        super().__init__()
        self.model = model
        self.pick = pick

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.pick(self.model(x))
        return out[:, None] if out.ndim == 1 else out


@dataclass
class NaiveTarget:
    """What MONAI's GradCAM is called on: ``calls`` yields (input, class index) pairs."""

    module: nn.Module
    layer: str  # MONAI ``target_layers``, relative to ``module``
    n_calls: int
    calls: Callable[[], Iterator[tuple[torch.Tensor, int]]]
    how: str


def _seed000_target(model: Any, image: Any, layer: str) -> NaiveTarget:
    from inference import preprocess as pp
    from inference.geometry import input_image

    pipe = model.load()
    prep = pp.prepare(input_image(image), pipe.cfg)
    mask = (pipe.segment(prep.ct) >= pipe.cfg.mask_threshold).astype(np.uint8)
    patch, _, _ = pp.roi_patch(pipe.cfg, prep.ct, mask)
    x = torch.from_numpy(patch)[None]
    module = _Logits(pipe.classifier, lambda out: out)
    return NaiveTarget(
        module, f"model.{layer}", 1, lambda: iter([(x, 0)]), "one 3D patch, one label"
    )


def _bigru_target(model: Any, image: Any, layer: str) -> NaiveTarget:
    from inference.zoo.cnn_bigru.network import Member
    from inference.zoo.slices import slice_stack

    members = [m for m in model.load().values() if isinstance(m, Member)]
    x = torch.from_numpy(slice_stack(image, model.slice_config).images)
    n_labels = len(model.label_names)
    nets = [_Logits(m.cnn, lambda out: out[0]) for m in members]
    holder = _Switch(nets)

    def calls() -> Iterator[tuple[torch.Tensor, int]]:
        for k in range(len(nets)):
            holder.active = k
            for i in range(x.shape[0]):
                for c in range(n_labels):
                    yield x[i : i + 1], c

    return NaiveTarget(
        holder,
        f"nets.0.model.{layer}",  # replaced per member in run_naive via holder.layer_of
        len(nets) * x.shape[0] * n_labels,
        calls,
        f"{len(nets)} members x {x.shape[0]} slices x {n_labels} labels, one slice per call",
    )


def _rnn3d_target(model: Any, image: Any, layer: str) -> NaiveTarget:
    from inference.zoo.cnn_rnn3d.network import SliceSequence
    from inference.zoo.slices import slice_stack

    (net,) = model.load().values()
    x = torch.from_numpy(slice_stack(image, model.slice_config).images)
    n, n_labels = x.shape[0], len(model.label_names)
    seq = SliceSequence(net)
    which = {"slice": 0}
    module = _Logits(seq, lambda out: out[which["slice"] : which["slice"] + 1])

    def calls() -> Iterator[tuple[torch.Tensor, int]]:
        for i in range(n):
            which["slice"] = i
            for c in range(n_labels):
                yield x, c

    return NaiveTarget(
        module,
        f"model.net.{layer}",
        n * n_labels,
        calls,
        f"{n} slices x {n_labels} labels, each call forwards the whole scan",
    )


class _Switch(nn.Module):
    """Several ensemble members behind one module; ``active`` picks the one called."""

    def __init__(self, nets: Sequence[nn.Module]):
        super().__init__()
        self.nets = nn.ModuleList(nets)
        self.active = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.nets[self.active](x)
        return out


NAIVE_ADAPTERS: dict[str, Callable[[Any, Any, str], NaiveTarget]] = {
    "cvst_unet_cbam_v1": _seed000_target,
    "ich_cnn_bigru_v1": _bigru_target,
    "ich_cnn_rnn3d_v1": _rnn3d_target,
}


def explain_methods(manifest: dict[str, Any]) -> tuple[str, ...]:
    """The model's Grad-CAM explainer, or all its explainers when it has none."""
    names = tuple(manifest.get("explainers", {}))
    cams = tuple(m for m in names if m in GRADCAM_LIKE)
    return cams[:1] if cams else names


def run_naive(target: NaiveTarget, max_calls: int) -> dict[str, Any]:
    from monai.visualize import GradCAM

    for p in target.module.parameters():
        p.requires_grad_(True)
    cams: dict[str, GradCAM] = {}
    done, start = 0, time.perf_counter()
    for x, c in target.calls():
        layer = target.layer
        if isinstance(target.module, _Switch):
            layer = layer.replace("nets.0.", f"nets.{target.module.active}.", 1)
        if layer not in cams:
            cams[layer] = GradCAM(nn_module=target.module, target_layers=layer)
        cams[layer](x, class_idx=c)
        done += 1
        if done >= max_calls:
            break
    seconds = time.perf_counter() - start
    total = seconds * target.n_calls / done
    return {
        "seconds": round(total, 2),
        "calls": target.n_calls,
        "timed_calls": done,
        "timed_seconds": round(seconds, 2),
        "extrapolated": done < target.n_calls,
        "how": f"monai GradCAM, {target.how}",
    }


def run_model(
    model_id: str, image: Any, threads: int, device: str, repeats: int, max_calls: int
) -> dict[str, Any]:
    from inference.plugin import PredictOptions
    from inference.registry import get_model

    model = get_model(model_id)
    manifest = model.manifest()
    methods = explain_methods(manifest)
    opts = PredictOptions(explain=methods, threads=threads, device=device)
    plain = PredictOptions(threads=threads, device=device)
    model.predict(image, options=opts)  # warm-up: loading, first-call allocations
    times, plain_times, pred = [], [], None
    for _ in range(repeats):
        t = time.perf_counter()
        pred = model.predict(image, options=opts)
        times.append(time.perf_counter() - t)
        t = time.perf_counter()
        model.predict(image, options=plain)
        plain_times.append(time.perf_counter() - t)
    assert pred is not None
    case_s, plain_s = statistics.median(times), statistics.median(plain_times)
    n_slices = int(pred.grid.shape[0])
    row: dict[str, Any] = {
        "model": model_id,
        "architecture": manifest["architecture"]["name"],
        "explain": list(methods),
        "maps": sorted(pred.heatmaps),
        "n_slices": n_slices,
        "production": {
            "case_s": round(case_s, 2),
            "ms_per_slice": round(1000 * case_s / n_slices, 1),
            "repeats_s": [round(t, 2) for t in times],
            "without_explainers_s": round(plain_s, 2),
            "timings_s": pred.provenance.get("timings_s", {}),
        },
    }
    log(
        f"{model_id}: production {case_s:.2f} s per case ({row['production']['ms_per_slice']} ms/slice)"
    )
    adapter = NAIVE_ADAPTERS.get(manifest["architecture"]["name"])
    cam = next((m for m in methods if m in GRADCAM_LIKE), None)
    if adapter is None or cam is None:
        row["naive"] = None
        row["naive_note"] = "no Grad-CAM on this model" if cam is None else "no naive adapter"
        return row
    layer = str(manifest["explainers"][cam].get("defaults", {})["layer"])
    torch.set_num_threads(threads)
    naive = run_naive(adapter(model, image, layer), max_calls)
    naive["layer"] = layer
    # the naive case: the same predict without explainers, plus the naive Grad-CAM maps
    naive["case_s"] = round(plain_s + naive["seconds"], 2)
    naive["ms_per_slice"] = round(1000 * naive["case_s"] / n_slices, 1)
    row["naive"] = naive
    row["ratio_production_over_naive"] = round(case_s / naive["case_s"], 3)
    log(f"{model_id}: naive {naive['case_s']} s per case ({naive['ms_per_slice']} ms/slice)")
    return row
