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
