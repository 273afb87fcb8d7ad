"""Seeded simulated reader studies (for tests, benchmarks and demos).

Binormal-style latent model: each case has a truth and a random difficulty; each reader has a
skill and a bias; the aided read shifts the reader's latent score toward the truth; a reader's
rating is a 0-100 transform of the latent score and the decision is rating >= 50. The model's
score is a noisy probability-like value in (0, 1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def simulate_study(
    n_readers: int = 9,
    n_cases: int = 102,
    n_pos: int | None = None,
    seed: int = 0,
    aided_gain: float = 0.4,
    reader_sd: float = 0.35,
    case_sd: float = 0.8,
    model_separation: float = 2.2,
    with_ratings: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(reads, scores)``: reads with conditions unaided/aided (no model rows) and the
    model's ``case, truth, score`` table."""
    rng = np.random.default_rng(seed)
    n_pos = int(round(n_cases * 0.25)) if n_pos is None else int(n_pos)
    truth = np.r_[np.ones(n_pos, int), np.zeros(n_cases - n_pos, int)]
    sign = 2 * truth - 1
    difficulty = rng.normal(0, case_sd, n_cases)  # > 0 makes the case look more positive
    skill = 1.2 + rng.normal(0, reader_sd, n_readers)
    bias = rng.normal(0, 0.3, n_readers)
    cases = [f"c{k + 1:05d}" for k in range(n_cases)]
    readers = [f"r{j + 1:03d}" for j in range(n_readers)]
    frames = []
    for cond, gain in (("unaided", 0.0), ("aided", aided_gain)):
        noise = rng.normal(0, 1, (n_readers, n_cases))
        latent = (skill[:, None] + gain) * sign[None, :] / 2 + difficulty + bias[:, None] + noise
        rating = np.clip(np.round(50 + 18 * latent), 0, 100)
        frames.append(
            pd.DataFrame(
                {
                    "reader": np.repeat(readers, n_cases),
                    "case": np.tile(cases, n_readers),
                    "condition": cond,
                    "truth": np.tile(truth, n_readers),
                    "decision": (rating >= 50).astype(int).ravel(),
                    "rating": rating.ravel(),
                }
            )
        )
    reads = pd.concat(frames, ignore_index=True)
    if not with_ratings:
        reads = reads.drop(columns="rating")
    z = model_separation * sign / 2 + 0.5 * difficulty + rng.normal(0, 1, n_cases)
    scores = pd.DataFrame(
        {"case": cases, "truth": truth, "score": np.round(1 / (1 + np.exp(-(z - 0.8))), 6)}
    )
    return reads, scores


def seed000_reads(seed: int = 0, concentration: float = 8.0) -> pd.DataFrame:
    """A per-read data set with seed 000's pooled counts (9 readers x 102 cases, 26 positive;
    unaided 190/234 TP and 462/684 TN, aided 205 TP and 516 TN, model 25 TP and 61 TN at the
    high-sensitivity point), allocated to reads with Beta-distributed case difficulty."""
    rng = np.random.default_rng(seed)
    n_readers, n_pos, n_neg = 9, 26, 76
    cases = [f"case{k + 1:03d}" for k in range(n_pos + n_neg)]
    truth = np.r_[np.ones(n_pos, int), np.zeros(n_neg, int)]
    ease = rng.beta(concentration * 0.75, concentration * 0.25, n_pos + n_neg)

    def allocate(idx: np.ndarray, n_correct: int) -> np.ndarray:
        """Spread n_correct correct reads over (reader, case in idx), weighted by ease."""
        w = np.repeat(ease[idx][None, :], n_readers, axis=0).ravel()
        chosen = rng.choice(w.size, size=n_correct, replace=False, p=w / w.sum())
        out = np.zeros(w.size, int)
        out[chosen] = 1
        return out.reshape(n_readers, idx.size)

    pos, neg = np.arange(n_pos), np.arange(n_pos, n_pos + n_neg)
    frames = []
    for cond, tp, tn in (("unaided", 190, 462), ("aided", 205, 516)):
        correct = np.zeros((n_readers, n_pos + n_neg), int)
        correct[:, pos] = allocate(pos, tp)
        correct[:, neg] = allocate(neg, tn)
        decision = np.where(truth[None, :] == 1, correct, 1 - correct)
        frames.append(
            pd.DataFrame(
                {
                    "reader": np.repeat([f"R{j + 1}" for j in range(n_readers)], n_pos + n_neg),
                    "case": np.tile(cases, n_readers),
                    "condition": cond,
                    "truth": np.tile(truth, n_readers),
                    "decision": decision.ravel(),
                }
            )
        )
    model_correct = np.zeros(n_pos + n_neg, int)
    model_correct[rng.choice(pos, 25, replace=False)] = 1
    model_correct[rng.choice(neg, 61, replace=False)] = 1
    frames.append(
        pd.DataFrame(
            {
                "reader": "model",
                "case": cases,
                "condition": "model",
                "truth": truth,
                "decision": np.where(truth == 1, model_correct, 1 - model_correct),
            }
        )
    )
    return pd.concat(frames, ignore_index=True)


# --- multi-endpoint studies (issue #18) ------------------------------------------------------
ICH_LABELS = ("any", "iph", "ivh", "sah", "sdh", "edh")
ICH_SUBTYPE_PREVALENCE = {"iph": 0.6, "sah": 0.45, "ivh": 0.35, "sdh": 0.2, "edh": 0.07}
LOCATIONS = ("deep", "lobar", "subtentorial")


def _ich_truth(rng: np.random.Generator, n_cases: int, prevalence: float) -> dict[str, np.ndarray]:
    """Multi-label truth: ``any`` ICH, and among the positive cases the five subtypes (at least
    one each; seed 002's prevalence order CPH/IPH > SAH > IVH > SDH > EDH)."""
    any_ich = rng.random(n_cases) < prevalence
    out = {
        k: (any_ich & (rng.random(n_cases) < p)).astype(int)
        for k, p in ICH_SUBTYPE_PREVALENCE.items()
    }
    none = any_ich & ~np.any(np.stack(list(out.values())), axis=0).astype(bool)
    out["iph"][none] = 1
    out["any"] = any_ich.astype(int)
    return out


def _binary_reads(
    rng: np.random.Generator,
    truth: np.ndarray,
    skill: np.ndarray,
    bias: np.ndarray,
    gain: float,
    difficulty: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(readers, cases) ratings 0-100 and decisions (rating >= 50), as ``simulate_study``."""
    sign = 2 * truth - 1
    noise = rng.normal(0, 1, (skill.size, truth.size))
    latent = (skill[:, None] + gain) * sign[None, :] / 2 + difficulty + bias[:, None] + noise
    rating = np.clip(np.round(50 + 18 * latent), 0, 100)
    return rating, (rating >= 50).astype(int)


def _class_reads(
    rng: np.random.Generator,
    truth: np.ndarray,
    labels: tuple[str, ...],
    p_correct: np.ndarray,
) -> np.ndarray:
    """Class calls: right with probability ``p_correct`` (readers x cases), else another class
    drawn uniformly."""
    k = len(labels)
    codes = np.array([labels.index(t) for t in truth])
    right = rng.random(p_correct.shape) < p_correct
    other = (codes[None, :] + rng.integers(1, k, p_correct.shape)) % k
    return np.asarray(labels, dtype=object)[np.where(right, codes[None, :], other)]


def _slice_truth(rng: np.random.Generator, truth: np.ndarray, n_slices: int) -> np.ndarray:
    """(cases, slices) 0/1: a positive case has one run of positive slices, a negative none."""
    out = np.zeros((truth.size, n_slices), dtype=int)
    for i in np.flatnonzero(truth):
        length = int(rng.integers(1, max(2, n_slices // 2) + 1))
        start = int(rng.integers(0, n_slices - length + 1))
        out[i, start : start + length] = 1
    return out


def _scores_frame(
    rng: np.random.Generator,
    cases: list[str],
    truth: dict[str, np.ndarray],
    difficulty: np.ndarray,
    n_slices: int,
    separation: float,
) -> pd.DataFrame:
    """The model's probabilities per endpoint: per case, or per slice (``slice`` column; the
    scan-level score is the maximum over slices)."""
    frames = []
    for ep, y in truth.items():
        if n_slices:
            st = _slice_truth(rng, y, n_slices)
            z = separation * (2 * st - 1) / 2 + 0.3 * difficulty[:, None]
            z = z + rng.normal(0, 1, st.shape)
            frames.append(
                pd.DataFrame(
                    {
                        "endpoint": ep,
                        "case": np.repeat(cases, n_slices),
                        "slice": np.tile(np.arange(1, n_slices + 1), len(cases)),
                        "truth": st.ravel(),
                        "score": np.round(1 / (1 + np.exp(-(z.ravel() - 1.5))), 6),
                    }
                )
            )
        else:
            z = separation * (2 * y - 1) / 2 + 0.5 * difficulty + rng.normal(0, 1, y.size)
            frames.append(
                pd.DataFrame(
                    {
                        "endpoint": ep,
                        "case": cases,
                        "truth": y,
                        "score": np.round(1 / (1 + np.exp(-(z - 0.8))), 6),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def _long(
    readers: list[str],
    cases: list[str],
    condition: str,
    endpoint: str,
    truth: np.ndarray,
    decision: np.ndarray,
    rating: np.ndarray | None,
) -> pd.DataFrame:
    r, n = decision.shape
    return pd.DataFrame(
        {
            "reader": np.repeat(readers, n),
            "case": np.tile(cases, r),
            "condition": condition,
            "endpoint": endpoint,
            "truth": np.tile(truth, r),
            "decision": decision.ravel(),
            "rating": np.nan if rating is None else rating.ravel(),
        }
    )


def simulate_endpoint_study(
    n_readers: int = 6,
    n_cases: int = 120,
    conditions: tuple[str, ...] = ("unaided", "aided"),
    gains: tuple[float, ...] | None = None,
    binary: tuple[str, ...] = ICH_LABELS,
    multiclass: dict[str, tuple[str, ...]] | None = None,
    prevalence: float = 0.6,
    n_slices: int = 0,
    slice_reads: int = 0,
    model_class_reads: bool = True,
    model_separation: float = 2.6,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded multi-endpoint study: ``(reads, scores)`` with an ``endpoint`` column.

    Binary endpoints (``binary``, a subset of any/iph/ivh/sah/sdh/edh, multi-label: the subtypes
    occur only in ``any``-positive cases) are read with a 0-100 rating and a 0/1 decision per
    reader and condition, the model scored with probabilities (per slice with ``n_slices``).
    Multi-class endpoints (``multiclass``, e.g. ``{"location": ("deep", "lobar",
    "subtentorial")}``) are read on the ``any``-positive cases only, with class names; with
    ``model_class_reads`` the model's class calls are ``model`` rows. ``gains``: the readers'
    improvement per condition (default 0, 0.4, 0.7, ...). ``slice_reads``: the first that many
    slices of each case also get slice-level reader answers (``slice`` column, binary
    endpoints) for slice-level agreement."""
    rng = np.random.default_rng(seed)
    gains = gains if gains is not None else tuple(0.4 * i**0.8 for i in range(len(conditions)))
    cases = [f"c{k + 1:05d}" for k in range(n_cases)]
    readers = [f"r{j + 1:03d}" for j in range(n_readers)]
    full = _ich_truth(rng, n_cases, prevalence)
    truth = {k: v for k, v in full.items() if k in binary}
    difficulty = rng.normal(0, 0.8, n_cases)
    skill = 1.4 + rng.normal(0, 0.35, n_readers)
    bias = rng.normal(0, 0.3, n_readers)
    frames = []
    for cond, gain in zip(conditions, gains, strict=True):
        for ep in binary:
            rating, decision = _binary_reads(rng, truth[ep], skill, bias, gain, difficulty)
            frames.append(_long(readers, cases, cond, ep, truth[ep], decision, rating))
    pos = np.flatnonzero(full["any"])
    for ep, labels in (multiclass or {}).items():
        cls = rng.choice(np.asarray(labels, dtype=object), size=pos.size, p=None)
        ease = difficulty[pos]
        for cond, gain in zip(conditions, gains, strict=True):
            p = 1 / (1 + np.exp(-(0.9 + gain + skill[:, None] - 1.4 - 0.5 * np.abs(ease))))
            calls = _class_reads(rng, cls, labels, p)
            frames.append(_long(readers, [cases[i] for i in pos], cond, ep, cls, calls, None))
        if model_class_reads:
            calls = _class_reads(rng, cls, labels, np.full((1, pos.size), 0.85))
            frames.append(_long(["model"], [cases[i] for i in pos], "model", ep, cls, calls, None))
    reads = pd.concat(frames, ignore_index=True)
    scores = _scores_frame(rng, cases, truth, difficulty, n_slices, model_separation)
    if slice_reads and n_slices:
        reads = pd.concat([reads, _slice_reads(rng, scores, readers, conditions, slice_reads)])
    return reads.reset_index(drop=True), scores


def _slice_reads(
    rng: np.random.Generator,
    scores: pd.DataFrame,
    readers: list[str],
    conditions: tuple[str, ...],
    n_first: int,
) -> pd.DataFrame:
    """Slice-level reader answers on the first ``n_first`` slices: the slice truth, flipped
    with probability 0.1 (0.06 in later conditions)."""
    sl = scores[scores["slice"] <= n_first]
    frames = []
    for i, cond in enumerate(conditions):
        flip = rng.random((len(readers), len(sl))) < (0.1 if i == 0 else 0.06)
        dec = np.where(flip, 1 - sl["truth"].to_numpy()[None, :], sl["truth"].to_numpy()[None, :])
        frames.append(
            pd.DataFrame(
                {
                    "reader": np.repeat(readers, len(sl)),
                    "case": np.tile(sl["case"].to_numpy(), len(readers)),
                    "condition": cond,
                    "endpoint": np.tile(sl["endpoint"].to_numpy(), len(readers)),
                    "slice": np.tile(sl["slice"].to_numpy(), len(readers)),
                    "truth": np.tile(sl["truth"].to_numpy(), len(readers)),
                    "decision": dec.ravel(),
                    "rating": np.nan,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
