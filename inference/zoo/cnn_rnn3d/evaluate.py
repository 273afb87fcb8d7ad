"""Held-out metrics of the joint CNN-RNN on phantom slice stacks (card and tests)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ...metrics import roc_auc
from ..slices import SliceConfig
from .data import LABELS, StackCase, network_input
from .network import CNNRNN3D, predict_scan


def scan_predictions(
    net: CNNRNN3D, cases: Sequence[StackCase], config: SliceConfig
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per case: (subject probabilities (6,), slice probabilities (n, 6))."""
    net.eval()
    out = []
    for case in cases:
        x = torch.from_numpy(network_input(case.hu, config))
        subject, slices = predict_scan(net, x)
        out.append((subject.numpy(), slices.numpy()))
    return out


def _auc(y: np.ndarray, p: np.ndarray) -> float | None:
    """ROC AUC, or None when only one class is present."""
    return float(roc_auc(y, p)) if 0 < y.sum() < len(y) else None


def metrics(
    cases: Sequence[StackCase],
    preds: Sequence[tuple[np.ndarray, np.ndarray]],
    threshold: float = 0.5,
) -> dict[str, Any]:
    """Per label: scan AUC (all subjects, and ICH-positive subjects as seed 002 evaluates the
    five types), slice AUC (all slices pooled), positives, and accuracy at ``threshold``."""
    y_scan = np.stack([c.labels for c in cases])
    p_scan = np.stack([p[0] for p in preds])
    y_slice = np.concatenate([c.slice_labels for c in cases])
    p_slice = np.concatenate([p[1] for p in preds])
    ich = y_scan[:, 0] > 0
    out: dict[str, Any] = {"n_scans": len(cases), "n_slices": int(len(y_slice))}
    for i, label in enumerate(LABELS):
        out[label] = {
            "scan_auc": _auc(y_scan[:, i], p_scan[:, i]),
            "scan_auc_ich_positive": None if i == 0 else _auc(y_scan[ich, i], p_scan[ich, i]),
            "slice_auc": _auc(y_slice[:, i], p_slice[:, i]),
            "scan_positives": int(y_scan[:, i].sum()),
            "slice_positives": int(y_slice[:, i].sum()),
            "scan_accuracy": float(((p_scan[:, i] >= threshold) == (y_scan[:, i] > 0)).mean()),
        }
    return out
