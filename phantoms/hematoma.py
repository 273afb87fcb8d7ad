"""Seed-001 haematoma classes: CVT-related versus other etiologies (HP / CAA / AVM).

The image side reuses the seed-000 phenotypes (``make_case``): a CVT-related haematoma is
the ``cvst_ich`` lesion (lobar, juxtacortical, irregular, oedema-rich), the other class
the ``sich`` lesion (round, smooth, thin oedema rim, deep or lobar). The negative class is
given its etiology from where its haematoma lies: deep (putamen / thalamus) is
hypertensive (HP); lobar is amyloid angiopathy (CAA) in older patients, else an AVM.

Clinical covariates are drawn per class, deterministically from the seed, with the
differences seed 001 reports: seizure at admission is far more frequent with CVT (its only
significant covariate, chi-square P = 0.001), headache slightly more, hypertension and age
barely differ (P = 0.824 and 0.565); CVT patients are more often female. Hypertension is
more likely in the HP etiology. Values are overlapping rates, not rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .case import PhantomCase, make_case
from .seeding import derived_seed, rng_for

CLASSES = ("cvt_related", "other")  # positive first
ETIOLOGIES = ("cvt", "hp", "caa", "avm")
COVARIATES = ("age", "sex_female", "seizure", "hypertension", "headache")
_IMAGE_LABEL = {"cvt_related": "cvst_ich", "other": "sich"}
# P(covariate = 1) by etiology
_RATES = {
    "seizure": {"cvt": 0.42, "hp": 0.08, "caa": 0.14, "avm": 0.16},
    "headache": {"cvt": 0.62, "hp": 0.45, "caa": 0.45, "avm": 0.55},
    "hypertension": {"cvt": 0.42, "hp": 0.62, "caa": 0.40, "avm": 0.25},
}


@dataclass(frozen=True, eq=False)
class HematomaCase:
    """A rendered seed-001 case: the image (``case``), its class, etiology and covariates."""

    case: PhantomCase
    label: str  # "cvt_related" or "other"
    etiology: str  # one of ETIOLOGIES
    covariates: dict[str, float]

    @property
    def truth(self) -> int:
        return int(self.label == CLASSES[0])


def _etiology(case: PhantomCase, label: str, age: float) -> str:
    if label == "cvt_related":
        return "cvt"
    if case.signs.get("site") in ("putamen", "thalamus"):
        return "hp"
    return "caa" if age >= 60 else "avm"


def make_hematoma_case(
    seed: int, label: str, *, matrix: int = 128, case_id: str | None = None
) -> HematomaCase:
    """Render one case of class ``label`` (deterministic from ``seed``)."""
    if label not in CLASSES:
        raise ValueError(f"label must be one of {CLASSES}, got {label!r}")
    case = make_case(seed, _IMAGE_LABEL[label], matrix=matrix, case_id=case_id)
    age = float(int(str(case.patient["PatientAge"]).rstrip("Y")))
    etiology = _etiology(case, label, age)
    rng = rng_for(seed, "clinical", label)
    covariates: dict[str, float] = {
        "age": age,
        "sex_female": float(case.patient["PatientSex"] == "F"),
    }
    for name in ("seizure", "hypertension", "headache"):
        covariates[name] = float(rng.random() < _RATES[name][etiology])
    return HematomaCase(case=case, label=label, etiology=etiology, covariates=covariates)


def hematoma_labels(n: int, seed: int, positive_fraction: float = 0.25) -> list[str]:
    """Class of each of ``n`` cases: round(n * fraction) CVT-related (at least one of each
    class when n >= 2), shuffled with ``seed``."""
    if n < 1:
        raise ValueError("n must be >= 1")
    if not 0.0 < positive_fraction < 1.0:
        raise ValueError("positive_fraction must be in (0, 1)")
    n_pos = min(max(round(n * positive_fraction), 1), n - 1) if n >= 2 else 1
    labels = [CLASSES[0]] * n_pos + [CLASSES[1]] * (n - n_pos)
    order = rng_for(seed, "hematoma-labels").permutation(n)
    return [labels[i] for i in order]


def hematoma_cases(
    n: int, seed: int, *, matrix: int = 128, positive_fraction: float = 0.25
) -> list[HematomaCase]:
    """``n`` cases (HM0001, ...) with case seeds derived from ``seed``."""
    return [
        make_hematoma_case(
            derived_seed(seed, "hematoma", i), label, matrix=matrix, case_id=f"HM{i + 1:04d}"
        )
        for i, label in enumerate(hematoma_labels(n, seed, positive_fraction))
    ]


def describe(case: HematomaCase) -> dict[str, Any]:
    """A JSON-able summary (no arrays)."""
    return {
        "case_id": case.case.case_id,
        "seed": case.case.seed,
        "label": case.label,
        "etiology": case.etiology,
        "covariates": dict(case.covariates),
        "site": case.case.signs.get("site"),
        "hematoma_volume_ml": case.case.signs.get("hematoma_volume_ml"),
    }
