"""Held-out metrics (per-label AUC per scan and per slice, per stage) and Grad-CAM scales."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ...metrics import roc_auc
from ..slices import SliceConfig
from .data import LABELS, Scan, windowed
from .forward import ScanOutputs, run_scan
from .network import Member

STAGES = ("cnn", "seq1", "final")


def outputs(
    members: Sequence[Member], scan: Scan, cfg: SliceConfig, cams: bool = False
) -> ScanOutputs:
    x = windowed(torch.from_numpy(scan.hu), cfg)
    labels = range(len(LABELS)) if cams else ()
    return run_scan(members, x, scan.thickness_mm, labels)


def _auc(y: np.ndarray, s: np.ndarray) -> float | None:
    return round(roc_auc(y, s), 4) if 0 < y.sum() < len(y) else None


def evaluate(members: Sequence[Member], data: Sequence[Scan], cfg: SliceConfig) -> dict[str, Any]:
    """Per label and stage: scan-level AUC (max over slices) and slice-level AUC; counts.
    A label without positives (or negatives) in ``data`` gets ``None``."""
    outs = [outputs(members, s, cfg) for s in data]
    y_slice = np.concatenate([s.labels for s in data])
    y_scan = np.stack([s.scan_labels for s in data])
    result: dict[str, Any] = {"n_scans": len(data), "n_slices": int(len(y_slice)), "labels": {}}
    for k, name in enumerate(LABELS):
        entry: dict[str, Any] = {
            "scan_positives": int(y_scan[:, k].sum()),
            "slice_positives": int(y_slice[:, k].sum()),
        }
        for stage in STAGES:
            p_slice = np.concatenate([getattr(o, stage)[:, k] for o in outs])
            p_scan = np.array([getattr(o, stage)[:, k].max() for o in outs])
            entry[stage] = {
                "scan_auc": _auc(y_scan[:, k], p_scan),
                "slice_auc": _auc(y_slice[:, k], p_slice),
            }
        p = np.array([o.final[:, k].max() for o in outs])
        entry["scan_accuracy_at_0.5"] = round(float(((p >= 0.5) == (y_scan[:, k] > 0)).mean()), 4)
        result["labels"][name] = entry
    final_any = result["labels"]["any"]["final"]
    result["summary"] = (
        f"any-ICH scan AUC {final_any['scan_auc']}, slice AUC {final_any['slice_auc']} "
        f"({len(data)} scans, {len(y_slice)} slices)"
    )
    return result


def gradcam_scales(
    members: Sequence[Member], data: Sequence[Scan], cfg: SliceConfig, q: float = 95.0
) -> dict[str, float]:
    """The global colour scale per label: the ``q``-th percentile of the per-scan maxima of
    the raw map over the scans positive for the label (all scans when none is). A label
    whose maps are all zero there (its logit's Grad-CAM is negative everywhere) takes the
    largest label's scale, so a faint map is not blown up to full colour."""
    maxima: dict[str, list[tuple[float, bool]]] = {name: [] for name in LABELS}
    for s in data:
        o = outputs(members, s, cfg, cams=True)
        for k, name in enumerate(LABELS):
            maxima[name].append((float(o.cams[k].max()), bool(s.scan_labels[k])))
    out = {}
    for name, values in maxima.items():
        pos = [v for v, y in values if y] or [v for v, _ in values]
        out[name] = float(np.percentile(pos, q))
    largest = max(out.values())
    if largest <= 0:
        raise ValueError("every Grad-CAM map is zero on the training scans: no global scale")
    return {k: v if v > 0 else largest for k, v in out.items()}
