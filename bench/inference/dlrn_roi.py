# mypy: disable-error-code="import-untyped"
"""How good is ``cvt_hematoma_dlrn``'s segmenter ROI (no mask given) on held-out phantoms?

Takes the first N held-out cases of the shipped model's training recipe (200 seed-001
phantoms, seed 0, matrix 128, 30 % held out, stratified) and reports per case the Dice of
the ``cvst_ich_demo`` segmentation against the phantom's truth mask, before and after the
small-component rule, and the DLRN's probability with the truth mask and with the segmenter
ROI. Writes ``dlrn_roi_last_run.json`` beside this file.

    .venv/bin/python bench/inference/dlrn_roi.py [--cases 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

import numpy as np


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return float(2 * np.sum((a > 0) & (b > 0)) / (np.sum(a > 0) + np.sum(b > 0)))


def probability(pred: Any) -> float:
    p = pred.probabilities["cvt_related"]
    if not isinstance(p, float):
        raise TypeError(f"P(cvt_related) is {p!r}, not a number")
    return round(p, 4)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10)
    args = parser.parse_args()

    from sklearn.model_selection import train_test_split

    from inference.zoo.dlrn import roi
    from inference.zoo.dlrn.plugin import DLRNModel
    from inference.zoo.dlrn.train import TEST_FRACTION
    from phantoms.hematoma import hematoma_labels, make_hematoma_case
    from phantoms.seeding import derived_seed

    n, seed = 200, 0
    labels = hematoma_labels(n, seed)
    y = np.array([lbl == "cvt_related" for lbl in labels], dtype=int)
    _, idx_te = train_test_split(
        np.arange(n), test_size=TEST_FRACTION, stratify=y, random_state=seed
    )
    model = DLRNModel()
    pipeline = model.segmenter()
    rows: list[dict[str, Any]] = []
    for i in sorted(int(k) for k in idx_te)[: args.cases]:
        hc = make_hematoma_case(
            derived_seed(seed, "hematoma", i), labels[i], matrix=128, case_id=f"HM{i + 1:04d}"
        )
        image, truth = hc.case.to_sitk(), hc.case.mask
        raw = pipeline.segmentation_mask(image, options={"threads": 2, "device": "cpu"})
        kept, found, n_kept = roi.haematoma_components(raw, pipeline.cfg.roi_min_component_fraction)
        opts = {"covariates": hc.covariates, "threads": 2, "device": "cpu"}
        p_mask = model.predict(image, options={**opts, "roi_mask": hc.case.mask_sitk()})
        # the kept mask is exactly what the no-mask path passes on (one segmenter run less)
        p_seg = model.predict(image, options={**opts, "roi_mask": kept})
        rows.append(
            {
                "case": hc.case.case_id,
                "label": labels[i],
                "dice_raw": round(dice(raw, truth), 3),
                "dice_kept": round(dice(kept, truth), 3),
                "components_found": found,
                "components_kept": n_kept,
                "p_mask": probability(p_mask),
                "p_segmenter": probability(p_seg),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    threshold = model.manifest()["operating_points"]["youden"]["threshold"]
    summary = {
        "cases": len(rows),
        "median_dice_raw": round(statistics.median(r["dice_raw"] for r in rows), 3),
        "median_dice_kept": round(statistics.median(r["dice_kept"] for r in rows), 3),
        "calls_changed": sum(
            (r["p_mask"] >= threshold) != (r["p_segmenter"] >= threshold) for r in rows
        ),
        "threshold": threshold,
    }
    out = {"summary": summary, "cases": rows}
    Path(__file__).with_name("dlrn_roi_last_run.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
