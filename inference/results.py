"""Plain result types returned by ``predict`` (numpy + dataclasses; no torch).

One result type serves every model plug-in. A model has one or more *heads*:

* ``binary``: one probability, of the head's positive label (``{"cvst_ich": p}``);
* ``multi_label``: one independent probability per label (``{"any": p, "iph": p, ...}``);
* ``multi_class``: a distribution over classes, nested under the head's name
  (``{"location": {"deep": p, "lobar": p, "subtentorial": p}}``).

``probabilities`` merges the heads; ``decisions`` holds, per operating point, a 0/1 number
for every binary and multi-label label and a one-hot of the most probable class for every
multi-class head. ``slice_probabilities`` (slice-level heads only) holds one probability per
slice of the input grid in index order, which is the series' geometric order (slices
sorted by ImagePositionPatient projected on the slice normal, ascending).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .geometry import Grid

if TYPE_CHECKING:
    import SimpleITK as sitk

#: a label's probability, or a multi-class head's distribution {class: p}
Probability = float | dict[str, float]


@dataclass
class Heatmap:
    """One explanation of one label (or class) on the input (DICOM) grid.

    ``array`` is float16 (z, y, x): [0, 1] for unsigned maps, [-1, 1] for signed ones
    (positive = towards ``label``); ``params["scale"]`` is the raw value mapped to 1.
    ``passes`` counts volumes pushed through the network (forward / backward).
    """

    method: str
    array: np.ndarray
    signed: bool
    params: dict[str, Any]
    passes: dict[str, int]
    seconds: float
    extras: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    @property
    def key(self) -> str:
        """``<method>_<label>``: the key in ``Prediction.heatmaps`` and the file stem suffix."""
        return f"{self.method}_{self.label}" if self.label else self.method

    def summary(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "label": self.label,
            "signed": self.signed,
            "dtype": str(self.array.dtype),
            "params": self.params,
            "passes": self.passes,
            "seconds": round(self.seconds, 3),
            **({"diagnostics": self.extras} if self.extras else {}),
        }


@dataclass
class Prediction:
    """Output of ``predict``: every array lives on the input grid (``grid``)."""

    model_id: str
    model_version: str
    probabilities: dict[str, Probability]
    decisions: dict[str, dict[str, int]]  # operating point -> {label: 0 or 1}
    thresholds: dict[str, float | dict[str, float]]  # operating point -> one or per label
    heatmaps: dict[str, Heatmap]  # keyed by Heatmap.key
    grid: Grid
    provenance: dict[str, Any]
    positive_label: str  # the headline label (the manifest's positive_label)
    mask: np.ndarray | None = None  # uint8 (z, y, x) lesion mask, when the model segments
    roi: dict[str, Any] = field(default_factory=dict)
    slice_probabilities: dict[str, list[float]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: model-specific results (e.g. the DLRN's signatures, nomogram, features), written as
    #: top-level keys of result.json
    outputs: dict[str, Any] = field(default_factory=dict)

    def heatmap(self, method: str, label: str | None = None) -> Heatmap:
        """The ``method`` map of ``label`` (default: the positive label)."""
        return self.heatmaps[f"{method}_{label or self.positive_label}"]

    def headline_probability(self) -> float:
        value = self.probabilities[self.positive_label]
        if isinstance(value, dict):
            raise TypeError(f"{self.positive_label!r} is a multi-class head, not a label")
        return float(value)

    def to_json(self) -> dict[str, Any]:
        """JSON-serialisable summary (arrays excluded)."""
        g = self.grid.geometry
        out = {
            "model": {"id": self.model_id, "version": self.model_version},
            "positive_label": self.positive_label,
            "probabilities": self.probabilities,
            "decisions": self.decisions,
            "thresholds": self.thresholds,
            "slice_probabilities": self.slice_probabilities,
            "grid": {
                "shape_zyx": list(self.grid.shape),
                "spacing": list(g.spacing),
                "origin": list(g.origin),
                "direction": list(g.direction),
            },
            "mask_voxels": None if self.mask is None else int(np.count_nonzero(self.mask)),
            "roi": self.roi,
            "heatmaps": {k: h.summary() for k, h in self.heatmaps.items()},
            "provenance": self.provenance,
            "warnings": list(self.warnings),
        }
        clash = sorted(set(out) & set(self.outputs))
        if clash:
            raise ValueError(f"model outputs {clash} would overwrite result keys")
        return {**out, **self.outputs}

    def mask_image(self) -> sitk.Image:
        if self.mask is None:
            raise ValueError(f"model {self.model_id} returns no mask")
        return self.grid.image(self.mask.astype(np.uint8))

    def heatmap_image(self, key: str) -> sitk.Image:
        """The heatmap as a float32 SimpleITK image (NIfTI has no float16 in most viewers)."""
        return self.grid.image(self.heatmaps[key].array.astype(np.float32))
