"""A labelled data set of phantom cases: DICOM series, masks, labels.csv, manifest.json.

Case seeds are derived from the data-set seed, labels are shuffled with it, and the
manifest holds no timestamps or absolute paths, so the same call writes byte-identical
files anywhere.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from .case import GENERATOR_VERSION, LABELS, make_case
from .dicom_io import write_case
from .seeding import derived_seed, rng_for

LABEL_COLUMNS = ("case_id", "label", "truth", "study_instance_uid", "series_instance_uid")


def dataset_labels(n: int, seed: int, positive_fraction: float) -> list[str]:
    """Class of each case: round(n * fraction) positives, both classes when n >= 2."""
    if not 0.0 <= positive_fraction <= 1.0:
        raise ValueError("positive_fraction must be in [0, 1]")
    rng = rng_for(seed, "dataset-labels")
    if n == 1:
        return [LABELS[0] if rng.random() < positive_fraction else LABELS[1]]
    n_pos = min(max(round(n * positive_fraction), 1), n - 1) if n >= 2 else 0
    labels = [LABELS[0]] * n_pos + [LABELS[1]] * (n - n_pos)
    order = rng.permutation(n)
    return [labels[i] for i in order]


def generate_dataset(
    out_dir: Path,
    n: int,
    seed: int,
    *,
    thin: bool = False,
    matrix: int = 512,
    positive_fraction: float = 0.35,
) -> list[dict[str, Any]]:
    """Write ``n`` cases (PH0001, ...) under ``out_dir``; returns one record per case."""
    if n < 1:
        raise ValueError("n must be >= 1")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = []
    manifest_cases = []
    for i, label in enumerate(dataset_labels(n, seed, positive_fraction)):
        case_seed = derived_seed(seed, "case", i)
        case = make_case(case_seed, label, thin=thin, matrix=matrix, case_id=f"PH{i + 1:04d}")
        record = write_case(case, out_dir)
        record["seed"] = case_seed
        records.append(record)
        manifest_cases.append(
            {
                "case_id": case.case_id,
                "label": case.label,
                "truth": case.truth,
                "seed": case_seed,
                "n_slices": case.n_slices,
                "spacing": list(case.spacing),
                "series_dir": case.case_id,
                "mask": Path(record["mask_path"]).name,
                "study_instance_uid": record["study_instance_uid"],
                "series_instance_uid": record["series_instance_uid"],
                "signs": case.signs,
            }
        )
    with open(out_dir / "labels.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(LABEL_COLUMNS)
        for r in records:
            writer.writerow([r[c] for c in LABEL_COLUMNS])
    manifest = {
        "generator": "readerstudy.phantoms",
        "version": GENERATOR_VERSION,
        "seed": seed,
        "parameters": {
            "n": n,
            "thin": thin,
            "matrix": matrix,
            "positive_fraction": positive_fraction,
        },
        "labels": {"positive": LABELS[0], "negative": LABELS[1]},
        "cases": manifest_cases,
    }
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (out_dir / "manifest.json").write_text(text, encoding="utf-8")
    return records
