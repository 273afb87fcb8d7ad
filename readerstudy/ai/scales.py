"""Heatmap colour scales: per case, or the model's fixed global scale.

A stored heatmap is normalised: its values times ``params["scale"]`` are the explainer's raw
values. A global scale ``g`` (the heatmap's ``params["global_scale"]``, else the manifest
explainer's ``defaults.global_scale``; one number or one per label) maps raw ``g`` to the top
of the colour bar in every case, so a stored value ``v`` sits at ``v * scale / g``. A map
the model already scaled globally has ``scale == g``: the factor is 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from .labels import global_scale, scale_of


@dataclass(frozen=True)
class OverlayScale:
    mode: str  # "case" or "global" (what is applied)
    bound: float = 0.0  # global: the raw value at the top of the colour bar
    factor: float | None = None  # global: stored value x factor = fraction of ``bound``
    note: str = ""  # why a requested global scale fell back to the case range


def _positive(value) -> float | None:
    return float(value) if isinstance(value, int | float) and value > 0 else None


def overlay_scale(mode: str, version, heatmap) -> OverlayScale:
    if mode != "global":
        return OverlayScale("case")
    params = heatmap.params or {}
    bound = scale_of(params.get("global_scale"), heatmap.label) or global_scale(
        version, heatmap.method, heatmap.label
    )
    if bound is None:
        return OverlayScale("case", note=f"{heatmap.method} has no global scale: case range")
    scale = _positive(params.get("scale"))
    if scale is None:
        return OverlayScale(
            "case", note=f"{heatmap.method} map has no stored per-case scale: case range"
        )
    return OverlayScale("global", bound=bound, factor=scale / bound)
