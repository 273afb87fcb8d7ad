"""Plain result types returned by ``predict`` (numpy + dataclasses; no torch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .geometry import Grid

if TYPE_CHECKING:
    import SimpleITK as sitk


@dataclass
class Heatmap:
    """One explanation on the input (DICOM) grid.

    ``array`` is float16 (z, y, x): [0, 1] for unsigned maps, [-1, 1] for signed ones
    (positive = towards CVST-ICH); ``params["scale"]`` is the raw value mapped to 1.
    ``passes`` counts volumes pushed through the classifier (forward / backward).
    """

    method: str
    array: np.ndarray
    signed: bool
    params: dict[str, Any]
    passes: dict[str, int]
    seconds: float
    extras: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "method": self.method,
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
    probabilities: dict[str, float]  # {"cvst_ich": P(CVST-ICH)}
    decisions: dict[str, str]  # operating point -> label
    thresholds: dict[str, float]
    mask: np.ndarray  # uint8 (z, y, x) hematoma mask on the input grid
    heatmaps: dict[str, Heatmap]
    grid: Grid
    roi: dict[str, Any]
    provenance: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def positive_label(self) -> str:
        return next(iter(self.probabilities))

    def to_json(self) -> dict[str, Any]:
        """JSON-serialisable summary (arrays excluded)."""
        g = self.grid.geometry
        return {
            "model": {"id": self.model_id, "version": self.model_version},
            "probabilities": self.probabilities,
            "decisions": self.decisions,
            "thresholds": self.thresholds,
            "grid": {
                "shape_zyx": list(self.grid.shape),
                "spacing": list(g.spacing),
                "origin": list(g.origin),
                "direction": list(g.direction),
            },
            "mask_voxels": int(np.count_nonzero(self.mask)),
            "roi": self.roi,
            "heatmaps": {k: h.summary() for k, h in self.heatmaps.items()},
            "provenance": self.provenance,
            "warnings": list(self.warnings),
        }

    def mask_image(self) -> sitk.Image:
        return self.grid.image(self.mask.astype(np.uint8))

    def heatmap_image(self, method: str) -> sitk.Image:
        """The heatmap as a float32 SimpleITK image (NIfTI has no float16 in most viewers)."""
        return self.grid.image(self.heatmaps[method].array.astype(np.float32))
