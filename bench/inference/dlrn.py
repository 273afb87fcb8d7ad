"""Per-case time of ``cvt_hematoma_dlrn`` on 2 CPU threads (goal: <= 20 s per case).

In-process (model loaded once, as a worker runs it): split into ROI (segmenter when no
mask is given, resampling to 0.5 x 0.5 x 5 mm), radiomics (PyRadiomics, original + wavelet),
deep (CNN penultimate layer + PCA) and model (selection transforms, forests, nomogram).
Production path: ``python -m inference predict`` in a fresh process on the case's DICOM
series (imports, model loading and DICOM reading included). Input: seed-001 phantoms on a
realistic 512 x 512 grid. The machine may be shared: every run records its wall and CPU
seconds (this process's, or the child's) and the 1-minute load average before and after.
Writes ``dlrn_last_run.json`` beside this file.

    .venv/bin/python bench/inference/dlrn.py [--cases 3] [--matrix 512] [--cli-cases 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

KEYS = ("wall_s", "cpu_s", "roi_s", "radiomics_s", "deep_s", "model_s")


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def in_process(model: Any, hc: Any, roi: str) -> dict[str, Any]:
    opts: dict[str, Any] = {"covariates": hc.covariates, "threads": 2, "device": "cpu"}
    if roi == "mask":
        opts["roi_mask"] = hc.case.mask_sitk()
    load0 = _load()
    t, c = time.perf_counter(), time.process_time()
    pred = model.predict(hc.case.to_sitk(), options=opts)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    tm = pred.provenance["timings_s"]
    return {
        "roi_source": roi,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "roi_s": round(tm["roi_mask"] + tm["roi_resample"], 3),
        "radiomics_s": round(tm["radiomics"], 3),
        "deep_s": round(tm["deep"], 3),
        "model_s": round(tm["model"], 3),
        "load_1min": [load0, _load()],
    }


def cli(hc: Any, roi: str, work: Path) -> dict[str, Any]:
    """``python -m inference predict`` on the DICOM series, in a child process."""
    from phantoms.dicom_io import write_case

    case_dir = work / f"{hc.case.case_id}_{roi}"
    rec = write_case(hc.case, case_dir)
    cov = case_dir / "covariates.json"
    cov.write_text(json.dumps(hc.covariates))
    cmd = [sys.executable, "-m", "inference", "predict", "--model", "cvt_hematoma_dlrn"]
    cmd += ["--input", rec["path"], "--out", str(case_dir / "out"), "--covariates", str(cov)]
    cmd += ["--threads", "2", "--device", "cpu"]
    if roi == "mask":
        cmd += ["--mask", rec["mask_path"]]
    load0 = _load()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = json.loads((case_dir / "out" / "result.json").read_text())
    if result["provenance"]["roi_source"] != roi:
        raise RuntimeError(f"predict used roi_source {result['provenance']['roi_source']!r}")
    return {
        "roi_source": roi,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "load_1min": [load0, _load()],
    }


def median(runs: list[dict[str, Any]], roi: str, keys: tuple[str, ...]) -> dict[str, float]:
    return {
        k: round(statistics.median(r[k] for r in runs if r["roi_source"] == roi), 3)
        for k in keys
        if any(k in r for r in runs)
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=3)
    parser.add_argument("--matrix", type=int, default=512)
    parser.add_argument("--cli-cases", type=int, default=1, help="cases run through the CLI")
    args = parser.parse_args()

    import torch

    from inference.registry import get_model
    from phantoms.hematoma import make_hematoma_case

    torch.set_num_threads(2)
    model = get_model("cvt_hematoma_dlrn")
    cases = [
        make_hematoma_case(5000 + i, "cvt_related" if i % 2 == 0 else "other", matrix=args.matrix)
        for i in range(max(args.cases, args.cli_cases))
    ]
    runs: list[dict[str, Any]] = []
    # the first call pays one-off imports and the segmenter's loading: not a per-case time
    in_process(model, cases[0], "segmenter")
    for i, hc in enumerate(cases[: args.cases]):
        for roi in ("mask", "segmenter"):
            runs.append({"case": i, **in_process(model, hc, roi)})
            print(json.dumps(runs[-1]), flush=True)
    cli_runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, hc in enumerate(cases[: args.cli_cases]):
            for roi in ("mask", "segmenter"):
                cli_runs.append({"case": i, **cli(hc, roi, Path(tmp))})
                print(json.dumps({"cli": True, **cli_runs[-1]}), flush=True)
    summary = {roi: median(runs, roi, KEYS) for roi in ("mask", "segmenter")}
    cli_summary = {roi: median(cli_runs, roi, ("wall_s", "cpu_s")) for roi in ("mask", "segmenter")}
    out = {
        "model": model.manifest()["version"],
        "matrix": args.matrix,
        "threads": 2,
        "cpu_count": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "load_average_end": [round(v, 2) for v in os.getloadavg()],
        "median": summary,
        "cli_median": cli_summary if cli_runs else {},
        "runs": runs,
        "cli_runs": cli_runs,
    }
    Path(__file__).with_name("dlrn_last_run.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({"in_process": summary, "cli": out["cli_median"]}, indent=2))


if __name__ == "__main__":
    main()
