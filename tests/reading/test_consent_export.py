"""The consent table of the exports: one row per acceptance, in every table format."""

import io
import json

import pandas as pd
import pytest
from django.urls import reverse

from readerstudy.reading import consent
from readerstudy.studies.consent import set_consent_text
from readerstudy.studies.models import Design
from tests.factories import PASSWORD, CoordinatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def accepted(make_study):
    study, readers = make_study(Design.UNAIDED_ONLY, n_cases=1, n_readers=2)
    v1 = set_consent_text(study, "Version one.")
    for reader in readers:
        consent.accept(reader, study, 1)
    v2 = set_consent_text(study, "Version two.")
    consent.accept(readers[0], study, 2)
    return study, readers, v1, v2


def _download(client, study, fmt):
    coordinator = CoordinatorFactory()
    client.login(username=coordinator.username, password=PASSWORD)
    return client.get(reverse("export-consent", args=[study.pk, fmt]))


def test_consent_csv_has_a_row_per_acceptance(client, accepted):
    study, readers, v1, v2 = accepted
    response = _download(client, study, "csv")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('-consent.csv"')
    frame = pd.read_csv(io.BytesIO(response.content))
    assert list(frame.columns) == [
        "reader", "version", "text_sha256", "accepted_at", "version_saved_at",
    ]  # fmt: skip
    first, second = sorted(r.username for r in readers)
    rows = list(frame[["reader", "version", "text_sha256"]].itertuples(index=False, name=None))
    by_user = {readers[0].username: [1, 2], readers[1].username: [1]}
    expected = [
        (user, n, (v1 if n == 1 else v2).text_sha256)
        for user in (first, second)
        for n in by_user[user]
    ]
    assert rows == expected
    assert frame["accepted_at"].map(pd.Timestamp).notna().all()


def test_consent_json_and_unknown_formats(client, accepted):
    study, *_ = accepted
    rows = json.loads(_download(client, study, "json").content)
    assert len(rows) == 3 and {r["version"] for r in rows} == {1, 2}
    refused = client.get(reverse("export-consent", args=[study.pk, "imrmc"]))
    assert refused.status_code == 400 and refused.json()["code"] == "unknown_format"


def test_readers_cannot_export_consent(client, accepted):
    study, readers, *_ = accepted
    client.login(username=readers[0].username, password=PASSWORD)
    assert client.get(reverse("export-consent", args=[study.pk, "csv"])).status_code == 403
