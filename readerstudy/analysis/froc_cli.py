"""The ``froc`` subcommand: OR (and DBM) analysis of an RJafroc-layout FROC/LROC data file.

python -m readerstudy.analysis froc --data FILE.xlsx|DIR --out DIR [--fom wAFROC]
    [--method OR|DBM] [--fpf 0.2] [--level 0.95] [--varcomp readerstudy|rjafroc]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from .froc_fom import FROC_FOMS, LROC_FOMS


def add_froc_parser(sub: Any) -> argparse.ArgumentParser:
    """Register the ``froc`` subcommand on an ``add_subparsers()`` object."""
    p: argparse.ArgumentParser = sub.add_parser(
        "froc", help="FROC/LROC MRMC analysis (wAFROC etc., OR and DBM) of an RJafroc data file"
    )
    p.add_argument(
        "--data",
        required=True,
        type=Path,
        help="RJafroc-layout .xlsx (TRUTH, FP/NL, TP/LL sheets) or a directory of "
        "TRUTH.csv, NL.csv, LL.csv",
    )
    p.add_argument("--out", required=True, type=Path, help="output directory")
    p.add_argument(
        "--fom",
        default=None,
        choices=(*FROC_FOMS, *LROC_FOMS),
        help="figure of merit (default wAFROC for FROC data, Wilcoxon for LROC data)",
    )
    p.add_argument("--method", choices=("OR", "DBM"), default="OR", help="OR, or OR + DBM")
    p.add_argument("--fpf", type=float, default=0.2, help="FPF for the LROC PCL/ALROC FOMs")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument(
        "--varcomp",
        choices=("readerstudy", "rjafroc"),
        default="readerstudy",
        help="Var(TR) as the ROC code (unclipped) or as RJafroc (Cov2 - Cov3 clipped at 0)",
    )
    p.add_argument("--format", default="png,svg", help="figure formats (default png,svg)")
    p.add_argument("--quiet", action="store_true")
    return p


def run_froc(args: argparse.Namespace) -> int:
    """Run the ``froc`` subcommand; bad input raises ``FrocDataError``/``ValueError`` (the CLI
    turns them into exit status 2)."""
    from .froc import froc_analysis
    from .froc_io import read_froc
    from .froc_report import write_froc_report

    t0 = time.perf_counter()
    ds = read_froc(args.data)
    analysis = froc_analysis(
        ds, args.fom, args.method, fpf_value=args.fpf, level=args.level, varcomp=args.varcomp
    )
    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    paths = write_froc_report(analysis, args.out, formats, source=str(args.data))
    if not args.quiet:
        r = analysis.orr.rrrc
        print(
            f"{ds.paradigm} {analysis.fom}: {len(ds.modalities)} modalities x {len(ds.readers)} "
            f"readers x {ds.k1 + ds.k2} cases; OR-RRRC F = {r['F']:.4g} "
            f"(df {r['df1']}, {r['ddf']:.4g}), p = {r['p']:.4g}; wrote {len(paths)} files to "
            f"{args.out} in {time.perf_counter() - t0:.1f} s"
        )
    return 0
