"""Benchmark: the full reader-study report on simulated studies.

    .venv/bin/python bench/analysis/run.py [--sizes small,large] [--backends statsmodels,r]
                                           [--repeat 1] [--out bench/analysis/results]

small = 9 readers x 102 cases x 2 conditions + model (seed 000's design; goal <= 5 s),
large = 100 readers x 2,000 cases x 2 conditions + model (goal <= 60 s),
multi = 100 readers x 2,000 cases x 3 conditions x 6 endpoints (any, iph, ivh, sah, sdh, edh)
+ the model's reads derived per endpoint (goal <= 60 s; the R backend times only the mixed
models, the same fits as the report's, against the Python fits in the same run). The report is built
from CSV files through the same code path as the CLI (read + validate + Table 2 with 1,000
bootstrap resamples + six LMM fits + OR/DBM for four FOMs + per-reader tables + agreement) and
written in every format (JSON, CSV, Markdown, HTML, PNG, SVG). The R backend is timed cold
(first fit in the process, i.e. including R start-up and package loading) and warm.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from readerstudy.analysis import ReportOptions, build_report  # noqa: E402
from readerstudy.analysis.lmm_r import r_available  # noqa: E402
from readerstudy.analysis.reads import read_csv  # noqa: E402
from readerstudy.analysis.simulate import (  # noqa: E402
    ICH_LABELS,
    simulate_endpoint_study,
    simulate_study,
)

SIZES = {"small": (9, 102, 26), "large": (100, 2000, 500), "multi": (100, 2000, None)}
GOALS = {"small": 5.0, "large": 60.0, "multi": 60.0}
MULTI_CONDITIONS = ("unaided", "aided", "second")


def simulate(size: str) -> tuple[object, object]:
    n_readers, n_cases, n_pos = SIZES[size]
    if size == "multi":
        return simulate_endpoint_study(
            n_readers, n_cases, conditions=MULTI_CONDITIONS, binary=ICH_LABELS, seed=2025
        )
    return simulate_study(n_readers, n_cases, n_pos, seed=2025)


def lmm_fits(report, backend: str) -> tuple[float, float, dict]:
    """The report's mixed models again, on the same reads (model reads included), with one
    backend: (wall s, cpu s, {endpoint: {outcome: {contrast: estimate}}})."""
    from readerstudy.analysis.endpoint_report import BINARY_LMM, _lmm_frame
    from readerstudy.analysis.lmm import reader_lmm

    opt = report.options
    frames = {ep: _lmm_frame(r.reads) for ep, r in report.endpoint_results.items()}
    c0, t0 = time.process_time(), time.perf_counter()
    out = {}
    for ep, reads in frames.items():
        fit = reader_lmm(
            reads,
            opt.lmm_mode,
            opt.lmm_random,
            backend,
            endpoints=BINARY_LMM,
            level=opt.level,
            engine=opt.lmm_engine,
            reference="unaided",
        )
        out[ep] = {
            k: {n: c.estimate for n, c in d["contrasts"].items()} for k, d in fit.endpoints.items()
        }
    return time.perf_counter() - t0, time.process_time() - c0, out


def compare_lmm(report, backends: list[str]) -> dict:
    """Python vs R (lme4 + lmerTest) on the report's fits: times, ratio, largest difference."""
    py_wall, py_cpu, py = lmm_fits(report, "statsmodels")
    n_fits = sum(
        len(d["fits"])
        for r in report.endpoint_results.values()
        if r.lmm
        for d in r.lmm.endpoints.values()
    )
    res = {"fits": n_fits, "python_wall_s": py_wall, "python_cpu_s": py_cpu}
    if "r" in backends:
        r_wall, r_cpu, r = lmm_fits(report, "r")
        diff = max(abs(py[ep][k][n] - r[ep][k][n]) for ep in py for k in py[ep] for n in py[ep][k])
        res.update(
            r_wall_s=r_wall,
            r_cpu_s=r_cpu,
            ratio_wall=r_wall / py_wall,
            ratio_cpu=r_cpu / py_cpu,
            max_abs_estimate_diff=diff,
        )
    return res


def run_once(reads_csv: Path, scores_csv: Path, backend: str, out: Path) -> dict:
    c0 = time.process_time()
    t0 = time.perf_counter()
    reads, scores = read_csv(reads_csv), read_csv(scores_csv)
    t1 = time.perf_counter()
    report = build_report(reads, scores, ReportOptions(backend=backend, seed=2025))
    t2 = time.perf_counter()
    report.write(out)
    t3 = time.perf_counter()
    return {
        "read_csv_s": t1 - t0,
        "build_s": t2 - t1,
        "write_s": t3 - t2,
        "total_s": t3 - t0,
        "cpu_s": time.process_time() - c0,
        "n_reads": int(sum(len(r.reads) for r in report.endpoint_results.values())),
        "skipped": report.skipped,
        "report": report,
    }


def run_cli(reads_csv: Path, scores_csv: Path, backend: str, out: Path) -> dict:
    """The whole command in a fresh interpreter (imports and R start-up included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "readerstudy.analysis",
            "report",
            "--reads",
            str(reads_csv),
            "--model-scores",
            str(scores_csv),
            "--out",
            str(out),
            "--backend",
            backend,
            "--quiet",
        ],
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"total_s": wall, "cpu_s": cpu}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="small,large,multi")
    ap.add_argument("--backends", default="statsmodels,r")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "analysis" / "results")
    ap.add_argument("--no-cli", action="store_true", help="skip the end-to-end CLI timing")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    backends = [b for b in a.backends.split(",") if b]
    if "r" in backends and not r_available()[0]:
        print(f"R backend unavailable ({r_available()[1]}); timing statsmodels only")
        backends.remove("r")
    results = []
    for size in [s for s in a.sizes.split(",") if s]:
        n_readers, n_cases, _ = SIZES[size]
        reads, scores = simulate(size)
        reads_csv, scores_csv = a.out / f"{size}_reads.csv", a.out / f"{size}_scores.csv"
        reads.to_csv(reads_csv, index=False)
        scores.to_csv(scores_csv, index=False)
        for backend in backends:
            if size == "multi" and backend == "r":
                continue  # the R side of the multi size: its mixed models, compared below
            for i in range(a.repeat + (1 if backend == "r" else 0)):
                label = "cold" if backend == "r" and i == 0 else "warm"
                res = run_once(reads_csv, scores_csv, backend, a.out / f"{size}_{backend}")
                res.update(
                    size=size,
                    backend=backend,
                    run=label,
                    readers=n_readers,
                    cases=n_cases,
                    goal_s=GOALS[size] if backend != "r" else None,
                )
                report = res.pop("report")
                results.append(res)
                print(
                    f"{size:5s} {n_readers:3d} readers x {n_cases:4d} cases  {backend:11s} "
                    f"{label:4s} total {res['total_s']:6.2f} s  cpu {res['cpu_s']:6.2f} s  "
                    f"(build {res['build_s']:.2f},"
                    f" write {res['write_s']:.2f}, csv {res['read_csv_s']:.2f})"
                    + (f"  goal <= {GOALS[size]:.0f} s" if backend != "r" else "")
                )
            if size == "multi" and backend == "statsmodels":
                lm = compare_lmm(report, backends)
                results.append({"size": size, "run": "lmm", "goal_s": None, **lm})
                line = f"multi mixed models: {lm['fits']} fits, Python {lm['python_wall_s']:.1f} s"
                line += f" wall / {lm['python_cpu_s']:.1f} s cpu"
                if "r_wall_s" in lm:
                    line += (
                        f"; R lmerTest {lm['r_wall_s']:.1f} s wall / {lm['r_cpu_s']:.1f} s cpu;"
                        f" R / Python = {lm['ratio_wall']:.1f} (wall), {lm['ratio_cpu']:.1f} "
                        f"(cpu); largest estimate difference {lm['max_abs_estimate_diff']:.1e}"
                    )
                print(line)
            if not a.no_cli:
                res = run_cli(reads_csv, scores_csv, backend, a.out / f"{size}_{backend}_cli")
                res.update(
                    size=size,
                    backend=backend,
                    run="cli",
                    readers=n_readers,
                    cases=n_cases,
                    goal_s=GOALS[size] if backend != "r" else None,
                )
                results.append(res)
                print(
                    f"{size:5s} {n_readers:3d} readers x {n_cases:4d} cases  {backend:11s} "
                    f"cli  total {res['total_s']:6.2f} s  cpu {res['cpu_s']:6.2f} s  "
                    "(python -m readerstudy.analysis report, fresh interpreter)"
                )
    meta = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "r": r_available()[1],
    }
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; on a loaded machine wall "
        "times are inflated, cpu = user + sys seconds of this work"
    )
    (a.out / "results.json").write_text(json.dumps({"meta": meta, "runs": results}, indent=2))
    failed = [r for r in results if r["goal_s"] and r["total_s"] > r["goal_s"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
