"""Command line: ``python -m readerstudy.analysis {report,power,validate,icc} ...``.

Exit status: 0 success, 2 invalid input (the errors are printed to stderr, one per line);
``report --bundle``: 1 when the re-run report differs from the bundled one.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .froc_cli import add_froc_parser, run_froc
from .icc import add_icc_parser, run_icc
from .reads import ReadsValidationError, read_csv, validate_reads
from .report import EXTRA_MODELS, FORMATS, ReportOptions, build_report


def _csv_list(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m readerstudy.analysis",
        description="Reader-study statistics (seed 000 protocol, MRMC).",
    )
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("report", help="full report: Table 2, Table 3 (LMM), MRMC, figures")
    r.add_argument("--reads", type=Path, help="long-format reads CSV (or --bundle)")
    r.add_argument(
        "--bundle",
        type=Path,
        help="a study bundle: re-run its analysis into --out/report.json (other options unused)",
    )
    r.add_argument("--model-scores", type=Path, help="model scores CSV: case, truth, score")
    r.add_argument(
        "--clinical",
        type=Path,
        help="clinical CSV (case, then one column per variable) for Table 1 (baseline)",
    )
    r.add_argument(
        "--group-by",
        default="truth",
        help="Table 1 groups: 'truth' (of the primary endpoint, default) or a clinical column",
    )
    r.add_argument(
        "--operating-point",
        default="high_sensitivity",
        help="high_sensitivity[:x] | high_specificity[:x] | youden | threshold:t "
        "(default high_sensitivity = max Se with Sp >= 0.8)",
    )
    r.add_argument("--out", required=True, type=Path, help="output directory")
    r.add_argument(
        "--format",
        default=",".join(FORMATS),
        help=f"comma-separated subset of {','.join(FORMATS)} (default: all)",
    )
    r.add_argument("--backend", choices=("statsmodels", "r"), default="statsmodels")
    r.add_argument("--seed", type=int, default=2025, help="bootstrap seed (default 2025)")
    r.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples")
    r.add_argument("--level", type=float, default=0.95, help="confidence level")
    r.add_argument("--lmm-mode", choices=("pairwise", "joint"), default="pairwise")
    r.add_argument(
        "--lmm-random",
        default="case",
        help="random part: case | reader_case | crossed | crossed_rc",
    )
    r.add_argument(
        "--lmm-engine",
        choices=("profiled", "mixedlm"),
        default="profiled",
        help="statsmodels backend: exact profiled REML or statsmodels MixedLM",
    )
    r.add_argument(
        "--extra-models", default="", help=f"comma-separated extra fits: {','.join(EXTRA_MODELS)}"
    )
    r.add_argument("--mrmc-cov", choices=("jackknife", "delong"), default="jackknife")
    r.add_argument("--jackknife-cases", choices=("truth_class", "all"), default="truth_class")
    r.add_argument(
        "--table2-points",
        default="high_sensitivity,high_specificity",
        help="operating points shown in Table 2",
    )
    r.add_argument(
        "--reference",
        help="reference condition of the contrasts (default: unaided, or the only reader "
        "condition)",
    )
    r.add_argument(
        "--contrasts",
        choices=("reference", "pairwise"),
        default="reference",
        help="pairwise LMM fits: each condition against the reference, or every pair",
    )
    r.add_argument(
        "--primary-endpoint",
        help="endpoint shown by the top-level keys of a multi-endpoint report (default: the "
        "first binary endpoint)",
    )
    r.add_argument("--quiet", action="store_true")

    w = sub.add_parser("power", help="OR power / sample size for a new study from pilot reads")
    w.add_argument("--reads", required=True, type=Path, help="pilot reads CSV")
    w.add_argument(
        "--fom", default="auc", choices=("auc", "sensitivity", "specificity", "accuracy")
    )
    w.add_argument("--effect", required=True, type=float, help="difference to detect")
    w.add_argument("--readers", required=True, type=int)
    w.add_argument("--cases", type=int, help="cases in the new study (omit to solve for it)")
    w.add_argument("--target-power", type=float, default=0.8)
    w.add_argument("--analysis", choices=("RRRC", "FRRC", "RRFC"), default="RRRC")
    w.add_argument("--alpha", type=float, default=0.05)

    v = sub.add_parser("validate", help="check a reads CSV and print a summary")
    v.add_argument("--reads", required=True, type=Path)
    add_icc_parser(sub)
    add_froc_parser(sub)
    return p


def _report_bundle(a: argparse.Namespace) -> int:
    from .bundle import BundleError, rerun

    try:
        done = rerun(a.bundle, a.out)
    except BundleError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    if done.identical:
        print(f"wrote {done.path}: identical to the bundled report.json")
        return 0
    why = ", ".join(done.differing_software) or "no software version differs"
    print(f"wrote {done.path}: DIFFERS from the bundled report.json ({why})", file=sys.stderr)
    return 1


def _report(a: argparse.Namespace) -> int:
    if a.bundle is not None:
        return _report_bundle(a)
    if a.reads is None:
        raise ValueError("report needs --reads (or --bundle)")
    opts = ReportOptions(
        operating_point=a.operating_point,
        table2_points=_csv_list(a.table2_points),
        n_bootstrap=a.bootstrap,
        seed=a.seed,
        level=a.level,
        backend=a.backend,
        lmm_mode=a.lmm_mode,
        lmm_random=a.lmm_random,
        lmm_engine=a.lmm_engine,
        extra_models=_csv_list(a.extra_models),
        mrmc_cov=a.mrmc_cov,
        jackknife_cases=a.jackknife_cases,
        reference=a.reference,
        contrasts=a.contrasts,
        primary_endpoint=a.primary_endpoint,
    )
    t0 = time.perf_counter()
    reads = read_csv(a.reads)
    scores = read_csv(a.model_scores) if a.model_scores else None
    if a.group_by != "truth" and not a.clinical:
        raise ValueError("--group-by needs --clinical")
    clinical = read_csv(a.clinical) if a.clinical else None
    report = build_report(reads, scores, opts, clinical=clinical, group_by=a.group_by)
    paths = report.write(a.out, _csv_list(a.format))
    if not a.quiet:
        print(f"wrote {len(paths)} files to {a.out} in {time.perf_counter() - t0:.1f} s")
        for k, why in report.skipped.items():
            print(f"not computed: {k}: {why}")
    return 0


def _power(a: argparse.Namespace) -> int:
    from .mrmc import mrmc_analysis
    from .power import OrVarianceComponents, or_power, or_sample_size

    reads = validate_reads(read_csv(a.reads))
    res = mrmc_analysis(reads, a.fom)
    vc = OrVarianceComponents.from_analysis(res.orr, res.n_cases)
    if a.cases:
        out = or_power(vc, a.effect, a.readers, a.cases, a.analysis, a.alpha)
    else:
        out = or_sample_size(vc, a.effect, a.readers, a.target_power, a.analysis, a.alpha)
    for k, v in out.to_dict().items():
        print(f"{k}: {v}")
    return 0


def _validate(a: argparse.Namespace) -> int:
    from .study import validate_study_reads

    study = validate_study_reads(read_csv(a.reads))
    for name, ep in study.endpoints.items():
        head = f"{name} ({ep.kind}) " if study.by_endpoint else ""
        for cond, sub in ep.reads.groupby("condition"):
            print(
                f"{head}{cond}: {len(sub)} reads, {sub['reader'].nunique()} readers, "
                f"{sub['case'].nunique()} cases, ratings: {sub['rating'].notna().all()}"
            )
        if ep.slices is not None:
            print(f"{head}slice-level answers: {len(ep.slices)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    a = _parser().parse_args(argv)
    try:
        commands = {
            "report": _report,
            "power": _power,
            "validate": _validate,
            "icc": run_icc,
            "froc": run_froc,
        }
        return commands[a.command](a)
    except ReadsValidationError as exc:
        print(f"error: invalid {exc.source} table", file=sys.stderr)
        for e in exc.errors:
            print(f"  - {e}", file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
