"""Per-case time of ``cvt_hematoma_dlrn`` on 2 CPU threads (goal: <= 20 s per case).

Split into ROI (segmenter when no mask is given, resampling to 0.5 x 0.5 x 5 mm),
radiomics (PyRadiomics, original + wavelet), deep (CNN penultimate layer + PCA) and model
(selection transforms, forests, nomogram). Input: seed-001 phantoms on a realistic
512 x 512 grid. Writes ``dlrn_last_run.json`` beside this file.

    .venv/bin/python bench/inference/dlrn.py [--cases 3] [--matrix 512]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=3)
    parser.add_argument("--matrix", type=int, default=512)
    args = parser.parse_args()

    import torch

    from inference.registry import get_model
    from phantoms.hematoma import make_hematoma_case

    torch.set_num_threads(2)
    model = get_model("cvt_hematoma_dlrn")
    model.load()
    runs = []
    for i in range(args.cases):
        hc = make_hematoma_case(
            5000 + i, "cvt_related" if i % 2 == 0 else "other", matrix=args.matrix
        )
        for roi in ("mask", "segmenter"):
            opts = {"covariates": hc.covariates, "threads": 2, "device": "cpu"}
            if roi == "mask":
                opts["roi_mask"] = hc.case.mask_sitk()
            t = time.perf_counter()
            pred = model.predict(hc.case.to_sitk(), options=opts)
            wall = time.perf_counter() - t
            tm = pred.provenance["timings_s"]
            runs.append(
                {
                    "case": i,
                    "roi_source": roi,
                    "wall_s": round(wall, 3),
                    "roi_s": round(tm["roi_mask"] + tm["roi_resample"], 3),
                    "radiomics_s": tm["radiomics"],
                    "deep_s": tm["deep"],
                    "model_s": tm["model"],
                }
            )
            print(json.dumps(runs[-1]), flush=True)
    summary = {
        roi: {
            k: round(statistics.median(r[k] for r in runs if r["roi_source"] == roi), 3)
            for k in ("wall_s", "roi_s", "radiomics_s", "deep_s", "model_s")
        }
        for roi in ("mask", "segmenter")
    }
    out = {
        "model": model.manifest()["version"],
        "matrix": args.matrix,
        "threads": 2,
        "load_average": list(os.getloadavg()),
        "cpu": platform.processor() or platform.machine(),
        "median": summary,
        "runs": runs,
    }
    Path(__file__).with_name("dlrn_last_run.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
