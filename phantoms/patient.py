"""Synthetic identities and scanner settings.

The identifying attributes are invented, deterministic from the seed, and deliberately
distinctive (made-up names built from syllables, prefixed IDs) so that de-identification
tests can search the ingested data for them without false hits.  Age and sex follow the
reference cohorts (CVST-ICH patients are younger and more often female).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

_ONSET = ("Qu", "Zar", "Vel", "Thor", "Kyr", "Bram", "Ost", "Wyl", "Jor", "Fen", "Grim", "Hal")
_MID = ("an", "ex", "ov", "ul", "ir", "ast", "en", "ob", "yr", "aq")
_CODA = ("dax", "vik", "mere", "thorn", "quist", "wald", "brink", "holt", "zen", "rook")
_GIVEN_F = ("Ysolde", "Marisca", "Odalys", "Thessaly", "Wrenna", "Liora", "Ottilie", "Zinnia")
_GIVEN_M = ("Evander", "Lucan", "Orrin", "Thaddeus", "Caspian", "Ambrose", "Leoric", "Bastien")
_PLACE = ("Harrowgate", "Millbrook", "Eastmere", "Kestrel Vale", "Ironcliff", "Westholm")

SCANNERS = (
    ("GE MEDICAL SYSTEMS", "Optima CT540", "STANDARD"),
    ("SIEMENS", "SOMATOM Definition Flash", "H31s"),
    ("SIEMENS", "SOMATOM Force", "Hr38"),
    ("SIEMENS", "SOMATOM Perspective", "H30s"),
    ("Philips", "Brilliance 16", "UB"),
    ("CANON_MEC", "Aquilion Lightning", "FC21"),
)


def _surname(rng: np.random.Generator) -> str:
    return str(rng.choice(_ONSET) + rng.choice(_MID) + rng.choice(_CODA)).upper()


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, size=n))


def sample_patient(rng: np.random.Generator, label: str) -> dict[str, Any]:
    """Identifying DICOM attributes (keyword -> value) plus ``age_years`` for anatomy."""
    if label == "cvst_ich":
        age = float(np.clip(rng.normal(44.0, 15.0), 18.0, 85.0))
        male = rng.random() < 0.5
    else:
        age = float(np.clip(rng.normal(54.0, 13.0), 25.0, 90.0))
        male = rng.random() < 0.65
    study = dt.date(2016, 1, 1) + dt.timedelta(days=int(rng.integers(0, 2647)))
    birth = study - dt.timedelta(days=int(age * 365.25) + int(rng.integers(0, 365)))
    years = study.year - birth.year - ((study.month, study.day) < (birth.month, birth.day))
    hh, mm, ss = int(rng.integers(0, 24)), int(rng.integers(0, 60)), int(rng.integers(0, 60))
    family = _surname(rng)
    given = str(rng.choice(_GIVEN_M if male else _GIVEN_F)).upper()
    place = str(rng.choice(_PLACE))
    institution = f"{_surname(rng).title()} Neurovascular Hospital"
    return {
        "PatientName": f"{family}^{given}",
        "PatientID": f"PX{_digits(rng, 8)}",
        "PatientBirthDate": birth.strftime("%Y%m%d"),
        "PatientSex": "M" if male else "F",
        "PatientAge": f"{years:03d}Y",
        "PatientAddress": f"{int(rng.integers(2, 400))} {_surname(rng).title()} Lane, {place}",
        "PatientTelephoneNumbers": f"+99 {_digits(rng, 3)} {_digits(rng, 7)}",
        "StudyDate": study.strftime("%Y%m%d"),
        "StudyTime": f"{hh:02d}{mm:02d}{ss:02d}",
        "AccessionNumber": f"AC{_digits(rng, 9)}",
        "StudyID": f"S{_digits(rng, 6)}",
        "InstitutionName": institution,
        "InstitutionAddress": f"{int(rng.integers(1, 90))} Infirmary Road, {place}",
        "ReferringPhysicianName": f"{_surname(rng)}^{rng.choice(_GIVEN_F + _GIVEN_M).upper()}",
        "PerformingPhysicianName": f"{_surname(rng)}^{rng.choice(_GIVEN_F + _GIVEN_M).upper()}",
        "OperatorsName": f"{_surname(rng)}^TECH",
        "StationName": f"CT{_digits(rng, 2)}{family[:3]}",
        "DeviceSerialNumber": f"SN{_digits(rng, 7)}",
        "age_years": round(age, 2),
    }


def sample_acquisition(rng: np.random.Generator) -> dict[str, Any]:
    """Non-identifying scanner and protocol attributes."""
    maker, model, kernel = SCANNERS[int(rng.integers(0, len(SCANNERS)))]
    return {
        "Manufacturer": maker,
        "ManufacturerModelName": model,
        "ConvolutionKernel": kernel,
        "SoftwareVersions": f"VB{int(rng.integers(10, 60))}",
        "KVP": "120",
        "XRayTubeCurrent": int(rng.integers(180, 360)),
        "ExposureTime": int(rng.integers(800, 1200)),
        "TableHeight": round(float(rng.uniform(120.0, 180.0)), 1),
        "SeriesNumber": int(rng.integers(2, 6)),
    }
