"""Reads wait for the reader's consent: refused before acceptance (409 consent_required), open
after it, refused again after a new version; acceptances are append-only."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from readerstudy.reading import consent, services
from readerstudy.reading.models import AnswerRevision, ConsentAcceptance
from readerstudy.studies.consent import set_consent_text
from readerstudy.studies.errors import StudyError
from readerstudy.studies.models import Assignment, Design
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ANSWER = {"diagnosis": "cvst_ich", "confidence": 80}


@pytest.fixture
def world(make_study, client):
    study, (reader,) = make_study(Design.UNAIDED_ONLY, n_cases=2, n_readers=1)
    client.login(username=reader.username, password=PASSWORD)
    first = Assignment.objects.filter(study=study, reader__user=reader).order_by("position")[0]
    return study, reader, first


def _start(client, assignment):
    return client.post(reverse("reading-start", args=[assignment.pk]))


def _accept(client, study, number):
    return client.post(
        reverse("reading-consent", args=[study.pk]), {"version": number}, "application/json"
    )


def test_a_study_without_consent_text_reads_as_before(world, client):
    study, _, first = world
    state = client.get(reverse("reading-consent", args=[study.pk])).json()
    assert state["required"] is False and state["version"] is None
    assert _start(client, first).status_code == 200
    assert _accept(client, study, 1).json()["code"] == "consent_not_required"


def test_every_write_path_is_refused_before_acceptance(world, client):
    study, reader, first = world
    set_consent_text(study, "I take part voluntarily.")
    response = _start(client, first)
    assert response.status_code == 409
    assert response.json()["code"] == "consent_required"
    assert f"/api/reading/studies/{study.pk}/consent/" in response.json()["detail"]
    for call in (
        lambda: services.save_draft(reader, first.pk, {"diagnosis": "sich"}),
        lambda: services.submit(reader, first.pk, ANSWER, client_request_id="r1"),
        lambda: services.lock(reader, first.pk),
    ):
        with pytest.raises(StudyError) as exc:
            call()
        assert exc.value.code == "consent_required"
    first.refresh_from_db()
    assert first.state == Assignment.State.PENDING and not AnswerRevision.objects.exists()


def test_acceptance_opens_the_reads_and_is_recorded(world, client):
    study, reader, first = world
    version = set_consent_text(study, "I take part voluntarily.")
    state = client.get(reverse("reading-consent", args=[study.pk])).json()
    assert state == {
        "study": study.pk, "required": True, "accepted": False, "version": 1,
        "text": "I take part voluntarily.", "text_sha256": version.text_sha256,
        "accepted_at": None,
    }  # fmt: skip
    assert _accept(client, study, 1).status_code == 201
    assert _accept(client, study, 1).status_code == 200  # again: the first acceptance stands
    row = ConsentAcceptance.objects.get()
    assert (row.user, row.version, row.text_sha256) == (reader, version, version.text_sha256)
    assert _start(client, first).status_code == 200
    result = services.submit(reader, first.pk, ANSWER, client_request_id="r1", lock=True)
    assert result.created


def test_a_new_version_asks_for_acceptance_again(world, client):
    study, reader, first = world
    set_consent_text(study, "Version one.")
    _accept(client, study, 1)
    services.start(reader, first.pk)
    set_consent_text(study, "Version two: the study now records active time.")
    with pytest.raises(StudyError) as exc:
        services.submit(reader, first.pk, ANSWER, client_request_id="r1")
    assert exc.value.code == "consent_required" and "version 2" in exc.value.message
    stale = _accept(client, study, 1)  # the old text read in another tab
    assert stale.status_code == 409 and stale.json()["code"] == "consent_outdated"
    assert _accept(client, study, 2).status_code == 201
    assert services.submit(reader, first.pk, ANSWER, client_request_id="r1").created
    assert list(
        ConsentAcceptance.objects.order_by("version__number").values_list(
            "version__number", flat=True
        )
    ) == [1, 2]


def test_clearing_the_text_asks_for_no_consent(world, client):
    study, reader, first = world
    set_consent_text(study, "Version one.")
    set_consent_text(study, "")  # version 2, empty: the study no longer asks
    assert _start(client, first).status_code == 200


def test_acceptances_cannot_be_changed_or_deleted(world):
    study, reader, _ = world
    version = set_consent_text(study, "Text.")
    state, created = consent.accept(reader, study, version.number)
    assert created
    row = state.acceptance
    row.text_sha256 = "0" * 64
    with pytest.raises(StudyError, match="cannot be changed"):
        row.save()
    with pytest.raises(StudyError, match="cannot be deleted"):
        row.delete()
    assert ConsentAcceptance.objects.get().text_sha256 == version.text_sha256


def test_the_check_adds_no_statement(world, client):
    """The consent check rides on the row lock: resuming a read costs the same with consent."""
    study, reader, first = world
    services.start(reader, first.pk)
    with CaptureQueriesContext(connection) as without:
        services.start(reader, first.pk)
    set_consent_text(study, "Text.")
    consent.accept(reader, study, 1)
    with CaptureQueriesContext(connection) as with_consent:
        services.start(reader, first.pk)
    assert len(with_consent.captured_queries) == len(without.captured_queries)
    # ... because the only statement that reads consent is the assignment's lookup itself
    reads = [q["sql"] for q in with_consent.captured_queries if "consentversion" in q["sql"]]
    assert len(reads) == 1 and "FROM studies_assignment a" in reads[0], reads


def test_the_workspace_shows_the_consent_page_first(world, client):
    study, _, _ = world
    set_consent_text(study, "Please read <b>this</b>.")
    workspace = reverse("reading-workspace", args=[study.pk])
    page_url = reverse("reading-consent-page", args=[study.pk])
    response = client.get(workspace)
    assert response.status_code == 302 and response.url == page_url
    page = client.get(page_url).content.decode()
    assert "Please read &lt;b&gt;this&lt;/b&gt;." in page  # the text, escaped
    assert 'id="consent-accept"' in page and "reader.js" not in page
    response = client.post(page_url, {"version": "1"})
    assert response.status_code == 302 and response.url == workspace
    assert client.get(workspace).status_code == 200
    assert client.get(page_url).url == workspace  # accepted: straight to the reads
