"""Read paths of annotator masks: the list, and Dice between them (seed 001's reliability).

The comparisons are those of reader segmentations (``analysis.segmentation_dice``): annotator
vs annotator within a session, one annotator's sessions pairwise (the repeat), and each mask
vs the case's truth mask. Dice needs the voxels: they are read from storage once per set of
files and the rows cached under the files' names (content-addressed: a name is its voxels).
"""

import hashlib
from itertools import groupby

import numpy as np
import SimpleITK as sitk
from django.core.cache import cache

from readerstudy.analysis.segmentation_dice import Segmentation, dice_rows, dice_summary

from .models import AnnotatorMask, HematomaMask
from .storage import local_copy

CACHE_PREFIX = "annotator-dice:v1:"
LABELS = {
    "reader_vs_reader": "annotator vs annotator",
    "intra_reader": "annotator vs own repeat",
    "reader_vs_truth": "annotator vs truth",
    "reader_vs_model": "annotator vs model",
}


def annotator_masks():
    return AnnotatorMask.objects.select_related("case", "user").order_by(
        "case__code", "annotator", "session"
    )


def _array(name: str) -> np.ndarray:
    with local_copy(name) as path:
        return sitk.GetArrayFromImage(sitk.ReadImage(str(path))) != 0


def _case_rows(code: str, masks: list[AnnotatorMask], truth: HematomaMask | None) -> list[dict]:
    names = sorted(f"{m.annotator}\0{m.session}\0{m.file}" for m in masks)
    names.append(f"truth\0{truth.file}" if truth is not None else "no truth")
    key = CACHE_PREFIX + hashlib.sha256((f"{code}\n" + "\n".join(names)).encode()).hexdigest()
    rows = cache.get(key)
    if rows is None:
        segs = [Segmentation(m.annotator, str(m.session), code, _array(m.file)) for m in masks]
        reference = {code: _array(truth.file)} if truth is not None else None
        rows = dice_rows(segs, truth=reference)
        cache.set(key, rows, timeout=None)
    return rows


def annotator_dice_rows() -> list[dict]:
    """Every comparison of every case with annotator masks (masks of one series together),
    as ``segmentation_dice`` rows: comparison, case, session, a, b, dice, voxels_a, voxels_b."""
    masks = annotator_masks().order_by("case__code", "series_id", "annotator", "session")
    truths = {t.case_id: t for t in HematomaMask.objects.all()}
    rows: list[dict] = []
    for (_, series_id), group in groupby(masks, key=lambda m: (m.case_id, m.series_id)):
        items = list(group)
        truth = truths.get(items[0].case_id)
        same_grid = truth if truth is not None and truth.series_id == series_id else None
        rows.extend(_case_rows(items[0].case.code, items, same_grid))
    order = list(LABELS)
    return sorted(rows, key=lambda r: (order.index(r["comparison"]), r["case"]))


def annotator_dice_summary(rows: list[dict]) -> list[dict]:
    """The summary per comparison that has rows, with a label for people."""
    return [
        {"comparison": kind, "label": LABELS.get(kind, kind), **values}
        for kind, values in dice_summary(rows).items()
        if values["n"] + values["n_undefined"]
    ]
