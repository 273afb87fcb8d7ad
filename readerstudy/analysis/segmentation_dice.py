"""Dice analyses of a study's reader segmentations: reader vs reader, a reader vs itself after
an interval (another session or condition), reader vs ground truth and reader vs the model's
mask, as one row per comparison (a CSV export) and a summary per comparison.

The Dice coefficient is :func:`.dice.dice`; two empty masks have none (``None`` here, left out
of the summary) rather than a perfect 1: agreeing on nothing says nothing about segmentation.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from .dice import dice as dice_coefficient

COMPARISONS = ("reader_vs_reader", "intra_reader", "reader_vs_truth", "reader_vs_model")
CSV_COLUMNS = ("comparison", "case", "session", "a", "b", "dice", "voxels_a", "voxels_b")


@dataclass(frozen=True)
class Segmentation:
    """One reader's mask of one case in one session (or session and condition)."""

    reader: str
    session: str
    case: str
    mask: np.ndarray


def dice(a: np.ndarray, b: np.ndarray) -> float | None:
    """Dice of two masks of one grid; None when both are empty."""
    value = dice_coefficient(a, b)
    return None if math.isnan(value) else value


def _row(
    kind: str, case: str, session: str, a: str, b: str, ma: np.ndarray, mb: np.ndarray
) -> dict[str, Any]:
    return {
        "comparison": kind,
        "case": case,
        "session": session,
        "a": a,
        "b": b,
        "dice": dice(ma, mb),
        "voxels_a": int((np.asarray(ma) != 0).sum()),
        "voxels_b": int((np.asarray(mb) != 0).sum()),
    }


def dice_rows(
    segmentations: Sequence[Segmentation],
    truth: Mapping[str, np.ndarray] | None = None,
    model: Mapping[str, np.ndarray] | None = None,
) -> list[dict[str, Any]]:
    """Every comparison the segmentations allow, one row each (columns :data:`CSV_COLUMNS`).

    ``reader_vs_reader``: two readers, same case and session. ``intra_reader``: one reader,
    same case, two sessions (``session`` = ``"s1|s2"``). ``reader_vs_truth`` /
    ``reader_vs_model``: against the case's ground-truth / model mask when given."""
    seen: dict[tuple[str, str, str], Segmentation] = {}
    for s in segmentations:
        key = (s.reader, s.session, s.case)
        if key in seen:
            raise ValueError(
                f"reader {s.reader} has two segmentations of case {s.case} in {s.session}"
            )
        seen[key] = s
    ordered = sorted(seen.values(), key=lambda s: (s.case, s.session, s.reader))
    by_case_session: dict[tuple[str, str], list[Segmentation]] = {}
    by_reader_case: dict[tuple[str, str], list[Segmentation]] = {}
    for s in ordered:
        by_case_session.setdefault((s.case, s.session), []).append(s)
        by_reader_case.setdefault((s.reader, s.case), []).append(s)
    rows: list[dict[str, Any]] = []
    for (case, session), group in by_case_session.items():
        for a, b in combinations(group, 2):
            rows.append(_row("reader_vs_reader", case, session, a.reader, b.reader, a.mask, b.mask))
    for (reader, case), group in sorted(by_reader_case.items()):
        for a, b in combinations(sorted(group, key=lambda s: s.session), 2):
            span = f"{a.session}|{b.session}"
            rows.append(_row("intra_reader", case, span, reader, reader, a.mask, b.mask))
    for kind, refs, name in (
        ("reader_vs_truth", truth, "truth"),
        ("reader_vs_model", model, "model"),
    ):
        for s in ordered:
            if refs is not None and s.case in refs:
                rows.append(_row(kind, s.case, s.session, s.reader, name, s.mask, refs[s.case]))
    return rows


def dice_summary(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per comparison: the number of defined Dice values, their mean, SD, min and max."""
    out: dict[str, dict[str, Any]] = {}
    for kind in COMPARISONS:
        mine = [r for r in rows if r["comparison"] == kind]
        vals = np.array([r["dice"] for r in mine if r["dice"] is not None], dtype=float)
        out[kind] = {
            "n": int(vals.size),
            "n_undefined": len(mine) - int(vals.size),
            "mean": float(vals.mean()) if vals.size else None,
            "sd": float(vals.std(ddof=1)) if vals.size > 1 else None,
            "min": float(vals.min()) if vals.size else None,
            "max": float(vals.max()) if vals.size else None,
        }
    return out


def dice_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """The rows as CSV text (an undefined Dice as an empty cell)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r[k] is None else r[k]) for k in CSV_COLUMNS})
    return buf.getvalue()
