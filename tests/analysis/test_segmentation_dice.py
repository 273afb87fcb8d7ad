"""Dice analyses of reader segmentations (reader/reader, intra-reader, truth, model)."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from readerstudy.analysis.segmentation_dice import (
    Segmentation,
    dice,
    dice_csv,
    dice_rows,
    dice_summary,
)


def box(z0: int, z1: int) -> np.ndarray:
    m = np.zeros((6, 4, 4), np.uint8)
    m[z0:z1, 1:3, 1:3] = 1
    return m


def test_dice_values() -> None:
    assert dice(box(0, 2), box(0, 2)) == 1.0
    assert dice(box(0, 2), box(1, 3)) == pytest.approx(2 * 4 / 16)
    assert dice(box(0, 1), box(3, 4)) == 0.0
    assert dice(np.zeros((2, 2)), np.zeros((2, 2))) is None


def test_all_four_comparisons_and_csv() -> None:
    segs = [
        Segmentation("R1", "s1", "C1", box(0, 2)),
        Segmentation("R2", "s1", "C1", box(1, 3)),
        Segmentation("R1", "s2", "C1", box(0, 3)),
    ]
    rows = dice_rows(segs, truth={"C1": box(0, 2)}, model={"C1": box(0, 4)})
    kinds = [(r["comparison"], r["a"], r["b"], r["session"]) for r in rows]
    assert ("reader_vs_reader", "R1", "R2", "s1") in kinds
    assert ("intra_reader", "R1", "R1", "s1|s2") in kinds
    assert not any(k[0] == "reader_vs_reader" and k[3] == "s2" for k in kinds)
    intra = next(r for r in rows if r["comparison"] == "intra_reader")
    assert intra["dice"] == pytest.approx(2 * 8 / (8 + 12))
    assert sum(r["comparison"] == "reader_vs_truth" for r in rows) == 3
    model = [r for r in rows if r["comparison"] == "reader_vs_model"]
    assert len(model) == 3 and model[0]["voxels_b"] == 16
    summary = dice_summary(rows)
    assert summary["reader_vs_reader"]["n"] == 1
    assert summary["reader_vs_truth"]["max"] == 1.0
    parsed = list(csv.DictReader(io.StringIO(dice_csv(rows))))
    assert len(parsed) == len(rows) and parsed[0]["comparison"] == "reader_vs_reader"


def test_undefined_dice_left_out_of_the_summary() -> None:
    empty = np.zeros((6, 4, 4), np.uint8)
    rows = dice_rows([Segmentation("R1", "s1", "C1", empty), Segmentation("R2", "s1", "C1", empty)])
    assert rows[0]["dice"] is None
    s = dice_summary(rows)["reader_vs_reader"]
    assert (s["n"], s["n_undefined"], s["mean"]) == (0, 1, None)
    assert dice_csv(rows).splitlines()[1].split(",")[5] == ""


def test_duplicate_segmentation_refused() -> None:
    with pytest.raises(ValueError, match="two segmentations"):
        dice_rows(
            [Segmentation("R1", "s1", "C1", box(0, 1)), Segmentation("R1", "s1", "C1", box(0, 2))]
        )
