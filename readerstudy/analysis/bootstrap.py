"""Seeded, vectorised case bootstrap (percentile intervals).

A resample is represented by a row of case multiplicities (how often each case was drawn), so
every statistic is a weighted sum and all resamples are computed at once with NumPy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .metrics import confusion_metrics

_MAX_CELLS = 4_000_000  # resamples x cases per chunk


def resample_counts(
    truth: npt.ArrayLike, n_resamples: int, rng: np.random.Generator, stratified: bool = True
) -> np.ndarray:
    """(B, n) int array of case multiplicities.

    ``stratified=True`` draws n_pos positives and n_neg negatives separately (pROC default), so
    every resample keeps the original class sizes; otherwise n cases are drawn from all cases.
    """
    truth = np.asarray(truth).astype(bool)
    n = truth.size
    counts = np.zeros((n_resamples, n), dtype=np.int32)
    groups = (np.flatnonzero(truth), np.flatnonzero(~truth)) if stratified else (np.arange(n),)
    rows = np.arange(n_resamples)[:, None]
    for members in groups:
        m = members.size
        if m == 0:
            continue
        draws = rng.integers(0, m, size=(n_resamples, m))
        flat = np.bincount((draws + rows * m).ravel(), minlength=n_resamples * m)
        counts[:, members] = flat.reshape(n_resamples, m)
    return counts


def chunked_counts(
    truth: np.ndarray | list[int], n_resamples: int, seed: int, stratified: bool = True
) -> Iterator[np.ndarray]:
    """Yield resample-count chunks from one seeded stream.

    The chunk size depends only on the number of cases, so results are reproducible for a given
    (cases, resamples, seed).
    """
    rng = np.random.default_rng(seed)
    n = max(len(truth), 1)
    step = max(1, min(n_resamples, _MAX_CELLS // n))
    done = 0
    while done < n_resamples:
        b = min(step, n_resamples - done)
        yield resample_counts(truth, b, rng, stratified)
        done += b


def chunked_cluster_weights(
    clusters: np.ndarray | list[str],
    truth: np.ndarray | list[int],
    n_resamples: int,
    seed: int,
    stratified: bool = True,
) -> Iterator[np.ndarray]:
    """Cluster (case) bootstrap for correlated units such as the slices of a scan: each resample
    draws clusters with replacement (stratified by the cluster's truth, the maximum of its
    units'), and every unit gets its cluster's multiplicity. Yields (b, n_units) weight chunks
    from one seeded stream."""
    codes, uniques = pd.factorize(np.asarray(clusters, dtype=object))
    unit_truth = np.asarray(truth).astype(int)
    cluster_truth = np.zeros(len(uniques), dtype=int)
    np.maximum.at(cluster_truth, codes, unit_truth)
    rng = np.random.default_rng(seed)
    step = max(1, min(n_resamples, _MAX_CELLS // max(len(codes), 1)))
    done = 0
    while done < n_resamples:
        b = min(step, n_resamples - done)
        yield resample_counts(cluster_truth, b, rng, stratified)[:, codes]
        done += b


def weighted_auc(truth: npt.ArrayLike, score: npt.ArrayLike, weights: np.ndarray) -> np.ndarray:
    """Empirical AUC (ties 1/2) for each row of case weights; NaN if a class has no weight."""
    truth = np.asarray(truth).astype(bool)
    score = np.asarray(score, dtype=float)
    order = np.argsort(score, kind="mergesort")
    s = score[order]
    starts = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
    w = np.asarray(weights, dtype=float)[:, order]
    pos = np.add.reduceat(w * truth[order], starts, axis=1)
    neg = np.add.reduceat(w * ~truth[order], starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    num = (pos * (below + 0.5 * neg)).sum(axis=1)
    den = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def weighted_confusion(
    truth: npt.ArrayLike, decision: npt.ArrayLike, weights: np.ndarray
) -> dict[str, np.ndarray]:
    truth = np.asarray(truth).astype(bool)
    decision = np.asarray(decision).astype(bool)
    w = np.asarray(weights, dtype=float)
    return {
        "tp": w @ (truth & decision),
        "fn": w @ (truth & ~decision),
        "fp": w @ (~truth & decision),
        "tn": w @ (~truth & ~decision),
    }


def percentile_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (float("nan"), float("nan"))
    lo, hi = np.percentile(values, [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)


def bootstrap_performance(
    truth: np.ndarray | list[int],
    score: npt.ArrayLike,
    decisions: dict[str, np.ndarray],
    n_resamples: int = 1000,
    seed: int = 2025,
    stratified: bool = True,
    level: float = 0.95,
    clusters: np.ndarray | list[str] | None = None,
) -> dict[str, Any]:
    """Percentile CIs of the AUC and of every confusion metric at each fixed decision vector.

    Returns ``{"auc": (lo, hi), "points": {name: {metric: (lo, hi)}}, "n_resamples": B}``.
    Thresholds are held fixed (chosen once on the full data), not re-selected per resample.
    ``clusters`` (one id per unit, e.g. the case of each slice) resamples whole clusters.
    """
    aucs: list[np.ndarray] = []
    per_point: dict[str, dict[str, list[np.ndarray]]] = {k: {} for k in decisions}
    chunks = (
        chunked_counts(truth, n_resamples, seed, stratified)
        if clusters is None
        else chunked_cluster_weights(clusters, truth, n_resamples, seed, stratified)
    )
    for w in chunks:
        aucs.append(weighted_auc(truth, score, w))
        for name, dec in decisions.items():
            for metric, vals in confusion_metrics(**weighted_confusion(truth, dec, w)).items():
                per_point[name].setdefault(metric, []).append(vals)
    return {
        "auc": percentile_ci(np.concatenate(aucs), level),
        "points": {
            name: {m: percentile_ci(np.concatenate(v), level) for m, v in metrics.items()}
            for name, metrics in per_point.items()
        },
        "n_resamples": n_resamples,
        "seed": seed,
        "stratified": stratified,
    }
