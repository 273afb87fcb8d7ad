"""A haemorrhage-subtype data set: DICOM series, label maps, labels.csv, slice_labels.csv.

Normal heads and heads with one or several of the five subtypes (seeds 002-004: ICH yes /
no, the subtypes, slice-level labels, the location of an intraparenchymal haematoma).
Both CSVs are in the formats ``manage.py import_cases --labels ... --slice-labels ...``
reads:

* ``labels.csv``: ``case_id, label, truth, ich_present, subtypes, location, mask,
  study_instance_uid, series_instance_uid``; ``label`` is ``ich`` or ``normal`` (``truth``
  1 / 0), ``subtypes`` are ``;``-separated, ``mask`` names the case's label map (none for
  a normal head);
* ``slice_labels.csv``: one row per slice of every case, ``study_instance_uid, slice,
  sop_instance_uid, any, iph, ivh, sah, sdh, edh`` (``slice``: 0-based position along the
  normal, as in the volume; a slice is positive for a subtype when the subtype's label
  has voxels on it).

Like :mod:`phantoms.dataset`, the same call writes byte-identical files anywhere.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from .case import GENERATOR_VERSION
from .seeding import derived_seed, rng_for
from .subtype_case import make_subtype_case
from .subtype_io import write_subtype_case
from .subtypes import CODES, LOCATIONS, SUBTYPES

LABEL_COLUMNS = (
    "case_id",
    "label",
    "truth",
    "ich_present",
    "subtypes",
    "location",
    "mask",
    "study_instance_uid",
    "series_instance_uid",
)
SLICE_COLUMNS = ("study_instance_uid", "slice", "sop_instance_uid", "any", *SUBTYPES)
# per ICH case (seed 002's order of prevalence: IPH > SAH > IVH > SDH > EDH)
PREVALENCE = {"iph": 0.6, "ivh": 0.35, "sah": 0.45, "sdh": 0.2, "edh": 0.08}
LOCATION_P = (0.5, 0.3, 0.2)  # deep, lobar, subtentorial

Plan = tuple[tuple[str, ...], str]  # (subtypes, location of the IPH or "")


def plan_cases(n: int, seed: int, normal_fraction: float) -> list[Plan]:
    """What each case holds: round(n * fraction) normal heads (both kinds when n >= 2 and
    the fraction is strictly between 0 and 1); ICH cases draw their subtypes."""
    if n < 1:
        raise ValueError("n must be >= 1")
    if not 0.0 <= normal_fraction <= 1.0:
        raise ValueError("normal_fraction must be in [0, 1]")
    n_normal = round(n * normal_fraction)
    if n >= 2 and 0.0 < normal_fraction < 1.0:
        n_normal = min(max(n_normal, 1), n - 1)
    normal = [True] * n_normal + [False] * (n - n_normal)
    order = rng_for(seed, "subtype-plan").permutation(n)
    plans: list[Plan] = []
    for i, k in enumerate(order):
        if normal[int(k)]:
            plans.append(((), ""))
            continue
        rng = rng_for(seed, "subtype-plan", i)
        subtypes = tuple(s for s in SUBTYPES if rng.random() < PREVALENCE[s])
        if not subtypes:
            weights = [PREVALENCE[s] for s in SUBTYPES]
            total = sum(weights)
            subtypes = (SUBTYPES[int(rng.choice(len(SUBTYPES), p=[w / total for w in weights]))],)
        location = str(rng.choice(LOCATIONS, p=LOCATION_P)) if "iph" in subtypes else ""
        plans.append((subtypes, location))
    return plans


def _write_csv(path: Path, header: tuple[str, ...], rows: list[list[object]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def generate_subtype_dataset(
    out_dir: Path,
    n: int,
    seed: int,
    *,
    normal_fraction: float = 0.3,
    thin: bool = False,
    matrix: int = 512,
    tilt: float = 0.0,
) -> list[dict[str, Any]]:
    """Write ``n`` cases (PH0001, ...) under ``out_dir``; returns one record per case."""
    plans = plan_cases(n, seed, normal_fraction)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    label_rows: list[list[object]] = []
    slice_rows: list[list[object]] = []
    for i, (subtypes, location) in enumerate(plans):
        case_seed = derived_seed(seed, "subtype-case", i)
        case = make_subtype_case(
            case_seed,
            subtypes,
            location=location,
            thin=thin,
            matrix=matrix,
            tilt=tilt,
            case_id=f"PH{i + 1:04d}",
        )
        record = write_subtype_case(case, out_dir)
        mask = Path(record["mask_path"]).name if record["mask_path"] else ""
        study = record["study_instance_uid"]
        label_rows.append(
            [
                case.case_id,
                "ich" if case.ich_present else "normal",
                int(case.ich_present),
                int(case.ich_present),
                ";".join(case.subtypes),
                case.location,
                mask,
                study,
                record["series_instance_uid"],
            ]
        )
        for k, flags in enumerate(case.slice_labels()):
            sop = record["sop_instance_uids"][k]
            slice_rows.append([study, k, sop, flags["any"], *(flags[s] for s in SUBTYPES)])
        records.append(
            {
                "case_id": case.case_id,
                "seed": case_seed,
                "planned": list(subtypes),
                "subtypes": list(case.subtypes),
                "location": case.location,
                "hemorrhage": case.hemorrhage,
                "n_slices": case.n_slices,
                "spacing": list(case.spacing),
                "tilt_deg": case.tilt_deg,
                "series_dir": case.case_id,
                "mask": mask or None,
                "study_instance_uid": study,
                "series_instance_uid": record["series_instance_uid"],
            }
        )
    _write_csv(out_dir / "labels.csv", LABEL_COLUMNS, label_rows)
    _write_csv(out_dir / "slice_labels.csv", SLICE_COLUMNS, slice_rows)
    manifest = {
        "generator": "readerstudy.phantoms",
        "kind": "ich_subtypes",
        "version": GENERATOR_VERSION,
        "seed": seed,
        "parameters": {
            "n": n,
            "normal_fraction": normal_fraction,
            "thin": thin,
            "matrix": matrix,
            "tilt_deg": tilt,
        },
        "label_map": {"0": "none", **{str(code): name for name, code in CODES.items()}},
        "cases": records,
    }
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (out_dir / "manifest.json").write_text(text, encoding="utf-8")
    return records
