"""Import from a PACS over DICOMweb: QIDO-RS to search, WADO-RS to retrieve (dicomweb-client).

Retrieved instances are held in memory and go through the same ingest service as uploads, so a
PACS study is de-identified before anything is stored.
"""

import io
from dataclasses import dataclass

from dicomweb_client.api import DICOMwebClient
from django.conf import settings

from .errors import ImportFailed
from .ingest import ImportOutcome, import_study
from .models import Collection


@dataclass(frozen=True)
class PacsStudy:
    """A search hit. Identifying fields stay in memory for the coordinator's choice only."""

    study_uid: str
    modalities: str
    n_instances: int


def client(url: str | None = None) -> DICOMwebClient:
    base = url or settings.PACS_DICOMWEB_URL
    if not base:
        raise ImportFailed(
            "no PACS configured", [{"code": "no_pacs", "message": "set READERSTUDY_PACS_URL"}]
        )
    headers = (
        {"Authorization": settings.PACS_AUTHORIZATION} if settings.PACS_AUTHORIZATION else None
    )
    return DICOMwebClient(url=base, headers=headers)


def _value(item: dict, tag: str, default=""):
    values = item.get(tag, {}).get("Value") or [default]
    return values[0]


def search_studies(
    *, url: str | None = None, filters: dict | None = None, limit: int = 100
) -> list[PacsStudy]:
    hits = client(url).search_for_studies(search_filters=filters or {}, limit=limit)
    return [
        PacsStudy(
            study_uid=_value(hit, "0020000D"),
            modalities="\\".join(hit.get("00080061", {}).get("Value", [])),
            n_instances=int(_value(hit, "00201208", 0) or 0),
        )
        for hit in hits
    ]


def import_study_from_pacs(
    study_uid: str, *, url: str | None = None, collection: Collection | None = None
) -> ImportOutcome:
    try:
        datasets = client(url).retrieve_study(study_uid)
    except Exception as exc:  # network/HTTP errors from the PACS: report without PHI
        raise ImportFailed(
            "the PACS did not deliver the study",
            [{"code": "pacs_unavailable", "message": f"retrieve failed: {type(exc).__name__}"}],
        ) from None
    if not datasets:
        raise ImportFailed(
            "the PACS returned no instances", [{"code": "no_series", "message": "empty study"}]
        )
    pairs = []
    for index, ds in enumerate(datasets):
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        pairs.append((f"pacs-{index + 1:05d}", buffer.getvalue()))
    return import_study(pairs, collection=collection)
