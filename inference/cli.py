"""Command line: ``python -m inference predict | train | list-models``.

``predict`` writes, on the input series' grid:

* ``DIR/result.json`` - probabilities, decisions, thresholds, ROI, heatmap summaries,
  provenance (model, weights sha256, library versions, timings, passes);
* ``DIR/mask.nii.gz`` - the hematoma mask (uint8);
* ``DIR/heatmap_<method>.nii.gz`` - one per explainer (float32 in the file; NIfTI readers
  rarely support float16, the in-memory arrays are float16).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .explain import EXPLAINERS


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
            print(f"{m['id']:<20} ERROR {m['error']}")
            continue
        ops = ", ".join(f"{k}={v:.4f}" for k, v in m["operating_points"].items())
        print(f"{m['id']:<20} {m['version']:<8} {m['probability'].split(':')[0]}  [{ops}]")
        print(f"{'':<20} {m['name']}; explainers: {', '.join(m['explainers'])}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from .registry import get_model
    from .volume_io import read_input, write_image

    methods = [m.strip() for m in (args.explain or "").split(",") if m.strip()]
    if methods == ["all"]:
        methods = list(EXPLAINERS)
    bad = [m for m in methods if m not in EXPLAINERS]
    if bad:
        print(f"unknown explainer(s) {bad}; choose from {', '.join(EXPLAINERS)}", file=sys.stderr)
        return 2
    model = get_model(args.model)
    image, meta = read_input(args.input)
    pred = model.predict(
        image, meta=meta, options={"explain": tuple(methods), "threads": args.threads}
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_image(pred.mask_image(), out / "mask.nii.gz")
    files = {"mask": "mask.nii.gz"}
    for method in pred.heatmaps:
        name = f"heatmap_{method}.nii.gz"
        write_image(pred.heatmap_image(method), out / name)
        files[f"heatmap_{method}"] = name
    result = pred.to_json()
    result["input"] = str(args.input)
    result["files"] = files
    (out / "result.json").write_text(json.dumps(result, indent=2, default=_json_default) + "\n")
    p = pred.probabilities[pred.positive_label]
    print(f"P({pred.positive_label}) = {p:.4f}; decisions: {pred.decisions}; wrote {out}")
    for w in pred.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .train import run

    run(
        args.out,
        n_cases=args.n_cases,
        seed=args.seed,
        variant=args.variant,
        epochs_seg=args.epochs_seg,
        epochs_cls=args.epochs,
        lr=args.lr,
        matrix=args.matrix,
        setting=args.setting,
        threads=args.threads,
        model_id=args.model_id,
        version=args.version,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m inference", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("predict", help="run a model on a DICOM folder or a NIfTI file")
    p.add_argument("--input", required=True, help="DICOM series directory or image file")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--model", default=None, help="model id (default: the shipped demo model)")
    p.add_argument(
        "--explain", default="", help=f"comma-separated: {','.join(EXPLAINERS)} (or 'all')"
    )
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.set_defaults(func=cmd_predict)

    t = sub.add_parser("train", help="train on synthetic phantoms and write a model bundle")
    t.add_argument("--out", required=True, help="bundle directory to write")
    t.add_argument("--n-cases", type=int, default=200)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--variant", choices=("demo", "seed"), default="demo")
    t.add_argument("--epochs", type=int, default=None, help="classifier epochs")
    t.add_argument("--epochs-seg", type=int, default=None, help="segmentation epochs")
    t.add_argument("--lr", type=float, default=None)
    t.add_argument("--matrix", type=int, default=128, help="phantom in-plane matrix")
    t.add_argument("--setting", choices=("5mm", "1mm"), default="5mm")
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--model-id", default="cvst_ich_demo")
    t.add_argument("--version", default="0.1.0")
    t.set_defaults(func=cmd_train)

    m = sub.add_parser("list-models", help="list registered models")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_list_models)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    status: int = args.func(args)
    return status
