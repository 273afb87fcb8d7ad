"""The model's marks for the aided view: the connected components of its mask (as truth
lesions are found, ``analysis.froc_scoring.mask_lesions``), each with its centroid, the slice
nearest the centroid, its bounding box and a probability.

The probability is the mean, within the component, of an unsigned heatmap of the positive label
whose values are probabilities (range within [0, 1]) when the output has one, else the model's
probability of the positive label (the same for every component).
"""

from __future__ import annotations

import numpy as np

from readerstudy.ai.outputs import read_volume
from readerstudy.analysis.froc_scoring import mask_lesions
from readerstudy.cases.models import Instance

MAX_MARKS = 50


def _probability_map(output, positive: str):
    for heatmap in output.heatmaps.filter(label=positive, signed=False).order_by("method"):
        lo, hi = (float(v) for v in heatmap.value_range)
        if lo >= 0.0 and hi <= 1.0:
            return heatmap
    return None


def model_marks(output, positive: str, series_id: int) -> list[dict]:
    """The marks of ``output``'s mask (largest components first, at most :data:`MAX_MARKS`)."""
    volume = read_volume(output.mask)
    lesions, geometry = mask_lesions(volume.array, volume.origin, volume.spacing, volume.direction)
    if not lesions:
        return []
    lesions = lesions[:MAX_MARKS]
    heatmap = _probability_map(output, positive)
    values = None
    if heatmap is not None:
        values = np.asarray(read_volume(heatmap.file).array, dtype=np.float32)
        if values.shape != geometry.labels.shape:
            values = None
    probability = float((output.probabilities or {}).get(positive) or 0.0)
    uids = dict(
        Instance.objects.filter(series_id=series_id).values_list("position", "sop_instance_uid")
    )
    marks = []
    for lesion in lesions:
        inside = geometry.labels == lesion.component
        index = geometry.to_index(lesion.centroid_mm)
        z = index[0] if index is not None else int(np.argwhere(inside)[:, 0].mean().round())
        points = geometry.points_of(lesion.component or 0)
        source, value = "probability", probability
        if values is not None and heatmap is not None:
            source, value = f"heatmap:{heatmap.method}", float(values[inside].mean())
        marks.append(
            {
                "id": f"model-{lesion.id}",
                "point_mm": [round(c, 3) for c in lesion.centroid_mm],
                "sop_instance_uid": uids.get(z, ""),
                "probability": value,
                "probability_source": source,
                "voxels": int(lesion.voxels or 0),
                "extent_mm": {
                    "corners_mm": [
                        [round(float(c), 3) for c in points.min(axis=0)],
                        [round(float(c), 3) for c in points.max(axis=0)],
                    ]
                },
            }
        )
    return marks
