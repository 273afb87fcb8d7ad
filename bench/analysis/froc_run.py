"""Benchmark: FROC OR analysis of a 5-modality x 4-reader x 200-case study (dataset04's size).

    .venv/bin/python bench/analysis/froc_run.py [--repeat 3] [--out bench/analysis/results]

RJafroc's ``dataset04`` (FED) is not available as a data file here, so a seeded simulated study
of the same size is used (``readerstudy.analysis.froc_simulate``: 100 non-diseased and 100
diseased cases, 1-3 lesions per diseased case). Timed: writing the RJafroc-layout workbook,
reading and validating it, the wAFROC FOM with its jackknife + OR (RRRC, FRRC, RRFC), the same
plus DBM, every other FROC FOM with OR, the report (JSON + FROC/AFROC/wAFROC figures), and the
``froc`` command in a fresh interpreter. RJafroc is not installed on this machine, so no
side-by-side timing is made.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from readerstudy.analysis.froc import froc_analysis  # noqa: E402
from readerstudy.analysis.froc_fom import FROC_FOMS  # noqa: E402
from readerstudy.analysis.froc_io import read_froc_xlsx, records_to_xlsx  # noqa: E402
from readerstudy.analysis.froc_report import write_froc_report  # noqa: E402
from readerstudy.analysis.froc_simulate import simulate_froc  # noqa: E402


def timed(fn: Any) -> tuple[Any, float, float]:
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def once(tmp: Path) -> dict[str, dict[str, float]]:
    res: dict[str, dict[str, float]] = {}
    study = simulate_froc(5, 4, 100, 100, seed=2025)
    xlsx, w, c = timed(
        lambda: records_to_xlsx(study.truth, study.marks, study.readers, study.modalities)
    )
    res["write_xlsx"] = {"wall_s": w, "cpu_s": c}
    path = tmp / "study.xlsx"
    path.write_bytes(xlsx)
    ds, w, c = timed(lambda: read_froc_xlsx(path))
    res["read_validate"] = {"wall_s": w, "cpu_s": c}
    an, w, c = timed(lambda: froc_analysis(ds, "wAFROC", "OR").to_dict())
    res["wafroc_or"] = {"wall_s": w, "cpu_s": c}
    _, w, c = timed(lambda: froc_analysis(ds, "wAFROC", "DBM").to_dict())
    res["wafroc_or_dbm"] = {"wall_s": w, "cpu_s": c}
    _, w, c = timed(lambda: [froc_analysis(ds, f, "OR").to_dict() for f in FROC_FOMS])
    res["all_9_foms_or"] = {"wall_s": w, "cpu_s": c}
    a = froc_analysis(ds, "wAFROC", "DBM")
    _, w, c = timed(lambda: write_froc_report(a, tmp / "out"))
    res["report_json_figures"] = {"wall_s": w, "cpu_s": c}
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "readerstudy.analysis",
            "froc",
            "--data",
            str(path),
            "--out",
            str(tmp / "cli"),
            "--quiet",
        ],
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    res["cli_total"] = {"wall_s": time.perf_counter() - t0, "cpu_s": float("nan")}
    res["_size"] = {
        "modalities": len(ds.modalities),
        "readers": len(ds.readers),
        "cases": ds.k1 + ds.k2,
        "lesions": float(ds.lesions_per_case.sum()),
        "marks": float(ds.nl_rating.size + ds.ll_rating.size),
    }
    return res


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "analysis" / "results")
    a = ap.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as d:
        for _ in range(a.repeat):
            runs.append(once(Path(d)))
    a.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_avg": os.getloadavg(),
        "rjafroc": "not installed: no side-by-side timing",
    }
    (a.out / "froc_bench.json").write_text(json.dumps({"meta": meta, "runs": runs}, indent=2))
    print(f"size: {runs[0]['_size']}; load average {meta['load_avg']}")
    print(f"{'step':<22} {'wall (s), min-max':>20} {'cpu (s), min-max':>20}")
    for step in runs[0]:
        if step.startswith("_"):
            continue
        wall = [r[step]["wall_s"] for r in runs]
        cpu = [r[step]["cpu_s"] for r in runs]
        print(
            f"{step:<22} {min(wall):>9.3f} - {max(wall):<8.3f} {min(cpu):>9.3f} - {max(cpu):<8.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
