"""Deterministic DICOM UIDs.

``generate_uid`` with ``entropy_srcs`` hashes its sources (SHA-512) under a root, so the
UIDs are valid, unique in practice and reproducible from the seed: regenerating a data
set yields byte-identical files.  (With ``prefix=None`` pydicom ignores the entropy and
returns a random UUID UID, so the pydicom root is used instead.)
"""

from __future__ import annotations

from pydicom.uid import PYDICOM_ROOT_UID, generate_uid


def _uid(*parts: object) -> str:
    # one joined source with a separator: generate_uid concatenates sources without one
    key = "|".join(["readerstudy-phantoms", *map(str, parts)])
    return str(generate_uid(prefix=PYDICOM_ROOT_UID, entropy_srcs=[key]))


IMPLEMENTATION_UID = _uid("implementation")


def case_uids(seed: int, label: str, case_id: str, thin: bool, matrix: int) -> dict[str, str]:
    key = (seed, label, case_id, thin, matrix)
    return {
        "study_instance_uid": _uid(*key, "study"),
        "series_instance_uid": _uid(*key, "series"),
        "frame_of_reference_uid": _uid(*key, "frame"),
    }


def sop_instance_uid(series_uid: str, index: int) -> str:
    return _uid(series_uid, "sop", index)
