"""Command line: ``python -m inference predict | train | list-models``.

``predict`` writes, on the input series' grid:

* ``DIR/result.json`` - probabilities ({label: p}; a multi-class head as {head: {class: p}}),
  decisions ({operating point: {label: 0 or 1}}), thresholds, slice_probabilities ({label:
  [p per slice in geometric order]}), ROI, heatmap summaries, provenance (model, weights
  sha256, library versions, timings, device, passes);
* ``DIR/mask.nii.gz`` - the lesion mask (uint8), for models that segment;
* ``DIR/heatmap_<method>_<label>.nii.gz`` - one per explainer and label (float32 in the
  file; NIfTI readers rarely support float16, the in-memory arrays are float16). A model
  with a single scored label (one binary head) also gets ``heatmap_<method>.nii.gz``.

``--explain`` names explainers of the chosen model's manifest (``all``: every one of them).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _json_default(obj: object) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj)}")


def cmd_list_models(args: argparse.Namespace) -> int:
    from .registry import list_models

    models = list_models()
    if args.json:
        print(json.dumps(models, indent=2))
        return 0
    for m in models:
        if "error" in m:
            print(f"{m['id']:<24} ERROR {m['error']}")
            continue
        ops = ", ".join(f"{k}={_threshold_text(v)}" for k, v in m["operating_points"].items())
        print(f"{m['id']:<24} {m['version']:<8} {m['probability'].split(':')[0]}  [{ops}]")
        heads = "; ".join(
            f"{h['name']} ({h['kind']}{', per slice' if h['slice_level'] else ''}): "
            + ",".join(h["labels"])
            for h in m["heads"]
        )
        print(f"{'':<24} {m['name']}")
        print(f"{'':<24} heads: {heads}; explainers: {', '.join(m['explainers'])}")
    return 0


def _threshold_text(value: float | dict[str, float]) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v:.4f}" for k, v in value.items()) + "}"
    return f"{value:.4f}"


def single_label(manifest: dict[str, Any]) -> bool:
    """One head, binary: its maps also get the method-only file name."""
    heads = manifest["heads"]
    return len(heads) == 1 and heads[0]["kind"] == "binary"


def _read_covariates(path: str) -> dict[str, Any]:
    """``{name: value}`` from a JSON object file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"--covariates {path}: not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"--covariates {path}: must hold a JSON object {{name: value}}")
    return data


def cmd_predict(args: argparse.Namespace) -> int:
    from .device import DeviceError, resolve_device
    from .manifest import ModelLoadError
    from .registry import RegistryError, get_model
    from .volume_io import read_input, write_image

    try:
        model = get_model(args.model)
        device = resolve_device(args.device)
    except (RegistryError, DeviceError, ModelLoadError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    manifest = model.manifest()
    available = list(manifest["explainers"])
    methods = [m.strip() for m in (args.explain or "").split(",") if m.strip()]
    if "all" in methods:
        methods = available
    bad = [m for m in methods if m not in available]
    if bad:
        print(
            f"model {manifest['id']} has no explainer(s) {bad}; its explainers: "
            f"{', '.join(available)} (or 'all')",
            file=sys.stderr,
        )
        return 2
    image, meta = read_input(args.input)
    extra: dict[str, Any] = {}
    try:
        if args.mask:
            extra["roi_mask"] = read_input(args.mask)[0]
        if args.covariates:
            extra["covariates"] = _read_covariates(args.covariates)
        pred = model.predict(
            image,
            meta=meta,
            options={"explain": tuple(methods), "threads": args.threads, "device": device, **extra},
        )
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    if pred.mask is not None:
        write_image(pred.mask_image(), out / "mask.nii.gz")
        files["mask"] = "mask.nii.gz"
    for key, heatmap in pred.heatmaps.items():
        names = [f"heatmap_{key}.nii.gz"]
        if single_label(manifest) and heatmap.label == pred.positive_label:
            names.append(f"heatmap_{heatmap.method}.nii.gz")  # single-label models: both names
        for name in names:
            write_image(pred.heatmap_image(key), out / name)
            files[name.removesuffix(".nii.gz")] = name
    result = pred.to_json()
    result["input"] = str(args.input)
    result["files"] = files
    (out / "result.json").write_text(json.dumps(result, indent=2, default=_json_default) + "\n")
    p = pred.headline_probability()
    print(f"P({pred.positive_label}) = {p:.4f}; decisions: {pred.decisions}; wrote {out}")
    for w in pred.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .trainers import UnknownTrainerError, get_trainer

    try:
        trainer = get_trainer(args.model_id)
    except UnknownTrainerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    trainer(args)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m inference", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("predict", help="run a model on a DICOM folder or a NIfTI file")
    p.add_argument("--input", required=True, help="DICOM series directory or image file")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--model", default=None, help="model id (default: the shipped demo model)")
    p.add_argument(
        "--explain",
        default="",
        help="comma-separated explainers of the model's manifest (see list-models), or 'all'",
    )
    p.add_argument("--mask", default=None, help="ROI mask (NIfTI on the input grid), ROI models")
    p.add_argument("--covariates", default=None, help="JSON {name: value} of clinical covariates")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument(
        "--device",
        default="auto",
        help="auto (CUDA when available, else CPU), cpu, cuda or cuda:N (default auto)",
    )
    p.set_defaults(func=cmd_predict)

    t = sub.add_parser(
        "train",
        help="train on synthetic phantoms and write a model bundle",
        description="Trains the model --model-id names (inference.trainers.TRAINERS). Common "
        "flags: --out, --n-cases, --seed, --epochs, --threads, --version (unset: the trainer's "
        "default); the others are the seed-000 trainer's (cvst_ich_demo).",
    )
    t.add_argument("--out", required=True, help="bundle directory to write")
    t.add_argument("--model-id", default="cvst_ich_demo", help="which trainer (default demo)")
    t.add_argument("--n-cases", type=int, default=None, help="phantom cases (cvst_ich_demo: 200)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--epochs", type=int, default=None, help="(classifier) epochs")
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--version", default="0.1.0")
    t.add_argument("--variant", choices=("demo", "seed"), default="demo")
    t.add_argument("--epochs-seg", type=int, default=None, help="segmentation epochs")
    t.add_argument("--lr", type=float, default=None)
    t.add_argument("--matrix", type=int, default=128, help="phantom in-plane matrix")
    t.add_argument("--setting", choices=("5mm", "1mm"), default="5mm")
    t.add_argument("--icc", default=None, help="(cvt_hematoma_dlrn) ICC report JSON of features")
    t.add_argument("--icc-threshold", type=float, default=0.8, help="(cvt_hematoma_dlrn) min ICC")
    t.add_argument("--workers", type=int, default=None, help="(cvt_hematoma_dlrn) processes")
    t.set_defaults(func=cmd_train)

    m = sub.add_parser("list-models", help="list registered models")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_list_models)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    status: int = args.func(args)
    return status
