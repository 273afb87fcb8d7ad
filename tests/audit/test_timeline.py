"""The study's audit trail page and CSV: entries and answer revisions merged by time."""

import csv
import io

import pytest
from django.test import Client

from readerstudy.audit import views
from readerstudy.audit.models import AuditEntry
from readerstudy.reading.models import AnswerRevision
from tests.factories import CoordinatorFactory, ReaderFactory, StatisticianFactory

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_study_page_links_the_trail_which_merges_entries_and_answers(
    finished_study, monkeypatch
):
    study, _, _ = finished_study
    monkeypatch.setattr(views, "PAGE_SIZE", 1000)  # every row of the study on one page
    client = _client(CoordinatorFactory())
    detail = client.get(f"/studies/{study.pk}/").content.decode()
    assert f'href="/audit/studies/{study.pk}/"' in detail and "Audit trail" in detail
    page = client.get(f"/audit/studies/{study.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "study.create" in html and "study.open" in html and "answer.submit" in html


def test_the_trail_is_paginated_newest_first(finished_study, monkeypatch):
    study, _, _ = finished_study
    monkeypatch.setattr(views, "PAGE_SIZE", 5)
    client = _client(CoordinatorFactory())
    total = (
        AuditEntry.objects.filter(study=study).count()
        + AnswerRevision.objects.filter(assignment__study=study).count()
    )
    first = client.get(f"/audit/studies/{study.pk}/").context
    pages = first["page"].paginator.num_pages
    assert pages == -(-total // 5) and pages > 1
    last = client.get(f"/audit/studies/{study.pk}/?page={pages}").context["rows"]
    assert first["rows"][0].time >= first["rows"][-1].time >= last[0].time >= last[-1].time
    assert last[-1].kind == "study.create"  # the oldest row is the study's creation


def test_the_csv_holds_every_row_and_its_download_is_recorded(finished_study):
    study, readers, _ = finished_study
    user = CoordinatorFactory()
    response = _client(user).get(f"/audit/studies/{study.pk}/csv/")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    answers = AnswerRevision.objects.filter(assignment__study=study)
    assert sum(r["source"] == "answer" for r in table) == answers.count()
    assert {r["actor"] for r in table if r["source"] == "answer"} == {u.username for u in readers}
    times = [r["time"] for r in table]
    assert times == sorted(times, reverse=True)
    entry = AuditEntry.objects.get(kind="export.download", study=study)
    assert entry.actor == user and entry.additional_data == {"file": "audit-trail.csv"}


def test_readers_and_blinded_statisticians_cannot_see_the_trail(finished_study):
    study, _, _ = finished_study
    for user in (ReaderFactory(), StatisticianFactory()):
        client = _client(user)
        assert client.get(f"/audit/studies/{study.pk}/").status_code == 404
        assert client.get(f"/audit/studies/{study.pk}/csv/").status_code == 404
