"""Seeded simulated FROC / LROC studies (for tests and the benchmark), as plain records.

A search-model-like generator: on every case each reader x modality makes Poisson(``lam``)
non-lesion marks with N(0, 1) ratings and finds each lesion with probability ``nu``, rating it
N(mu_i + reader shift + case effect, 1). The shared case effect correlates readers and
modalities. LROC data keep only the highest-rated mark per case (a lesion mark = correct
localisation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .froc_io import MarkRecord, TruthRecord


@dataclass(frozen=True)
class SimulatedStudy:
    truth: list[TruthRecord]
    marks: list[MarkRecord]
    readers: list[str]
    modalities: list[str]
    paradigm: str


def simulate_froc(
    n_modalities: int = 5,
    n_readers: int = 4,
    n_normal: int = 100,
    n_diseased: int = 100,
    max_lesions: int = 3,
    mu: Sequence[float] | None = None,
    lam: float = 1.0,
    nu: float = 0.7,
    reader_sd: float = 0.3,
    case_sd: float = 0.5,
    paradigm: str = "FROC",
    seed: int = 2025,
    decimals: int | None = 2,
) -> SimulatedStudy:
    rng = np.random.default_rng(seed)
    mus = list(mu) if mu is not None else [1.5 + 0.1 * i for i in range(n_modalities)]
    modalities = [str(i + 1) for i in range(n_modalities)]
    readers = [str(j + 1) for j in range(n_readers)]
    shift = rng.normal(0, reader_sd, n_readers)
    cases = [f"{k + 1}" for k in range(n_normal + n_diseased)]
    n_les = {c: 0 for c in cases[:n_normal]}
    truth = [TruthRecord(c, 0, 0.0) for c in cases[:n_normal]]
    for c in cases[n_normal:]:
        n = 1 if paradigm == "LROC" else int(rng.integers(1, max_lesions + 1))
        n_les[c] = n
        truth += [TruthRecord(c, lesion, 1.0 / n) for lesion in range(1, n + 1)]
    effect = {c: float(rng.normal(0, case_sd)) for c in cases}

    def rate(x: float) -> float:
        return round(x, decimals) if decimals is not None else x

    marks: list[MarkRecord] = []
    for i, m in enumerate(modalities):
        for j, r in enumerate(readers):
            for c in cases:
                found: list[tuple[float, int]] = [
                    (float(z), 0) for z in rng.normal(0, 1, rng.poisson(lam))
                ]
                for lesion in range(1, n_les[c] + 1):
                    if rng.random() < nu:
                        z = rng.normal(mus[i] + shift[j] + effect[c], 1)
                        found.append((float(z), lesion))
                if paradigm == "LROC":
                    found = sorted(found)[-1:]
                marks += [MarkRecord(r, m, c, rate(z), lesion) for z, lesion in found]
    return SimulatedStudy(truth, marks, readers, modalities, paradigm)
