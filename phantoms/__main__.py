"""Command line: ``python -m phantoms --out DIR --n N --seed S [--thin] [--matrix 512]``.

``--subtypes`` writes a haemorrhage-subtype data set instead (normal heads and the five
subtypes, ``--normal-fraction``, optionally ``--tilt`` degrees of gantry tilt).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .dataset import generate_dataset
from .subtype_dataset import generate_subtype_dataset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m phantoms",
        description="Write synthetic head-CT cases (CVST-ICH vs sICH) as DICOM + NIfTI masks.",
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--n", type=int, default=10, help="number of cases (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="data-set seed (default 0)")
    parser.add_argument("--thin", action="store_true", help="1.0-1.25 mm slices instead of ~5 mm")
    parser.add_argument("--matrix", type=int, default=512, help="in-plane matrix (default 512)")
    parser.add_argument(
        "--positive-fraction",
        type=float,
        default=0.35,
        help="fraction of CVST-ICH cases (default 0.35)",
    )
    parser.add_argument(
        "--subtypes",
        action="store_true",
        help="a haemorrhage-subtype data set (IPH, IVH, SAH, SDH, EDH and normal heads)",
    )
    parser.add_argument(
        "--normal-fraction",
        type=float,
        default=0.3,
        help="with --subtypes: fraction of normal heads (default 0.3)",
    )
    parser.add_argument(
        "--tilt",
        type=float,
        default=0.0,
        help="with --subtypes: gantry tilt in degrees (default 0)",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.subtypes:
        return _subtypes(args, start)
    if args.tilt:
        parser.error("--tilt needs --subtypes")
    records = generate_dataset(
        args.out,
        args.n,
        args.seed,
        thin=args.thin,
        matrix=args.matrix,
        positive_fraction=args.positive_fraction,
    )
    n_pos = sum(r["truth"] for r in records)
    print(
        f"wrote {len(records)} cases ({n_pos} cvst_ich, {len(records) - n_pos} sich) "
        f"to {args.out} in {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )
    return 0


def _subtypes(args: argparse.Namespace, start: float) -> int:
    try:
        records = generate_subtype_dataset(
            args.out,
            args.n,
            args.seed,
            normal_fraction=args.normal_fraction,
            thin=args.thin,
            matrix=args.matrix,
            tilt=args.tilt,
        )
    except ValueError as exc:
        print(f"python -m phantoms: error: {exc}", file=sys.stderr)
        return 2
    n_ich = sum(bool(r["subtypes"]) for r in records)
    print(
        f"wrote {len(records)} cases ({n_ich} with haemorrhage, {len(records) - n_ich} normal) "
        f"to {args.out} in {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
