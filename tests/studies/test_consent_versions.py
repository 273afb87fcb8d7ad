"""A study's consent text: rewritten in a draft, a new version per change once open, never an
accepted version edited; the coordinator's editor on the study page."""

import hashlib

import pytest
from django.urls import reverse

from readerstudy.reading import consent as reading_consent
from readerstudy.studies import services
from readerstudy.studies.consent import ConsentVersion, current_version, set_consent_text
from readerstudy.studies.errors import StudyError
from readerstudy.studies.models import Design
from tests.factories import PASSWORD, CoordinatorFactory

pytestmark = pytest.mark.django_db


def test_draft_edits_rewrite_the_single_version(make_study):
    study, _ = make_study(Design.UNAIDED_ONLY, n_cases=1, n_readers=1, open_it=False)
    assert set_consent_text(study, "   ") is None  # empty: nothing asked, nothing stored
    first = set_consent_text(study, "I agree to take part.")
    second = set_consent_text(study, "I agree to take part in this study.\r\n")
    assert first.pk == second.pk and second.number == 1
    assert study.consent_versions.count() == 1
    assert second.text == "I agree to take part in this study."
    assert second.text_sha256 == hashlib.sha256(second.text.encode()).hexdigest()


def test_open_study_changes_make_new_versions_and_keep_the_old(make_study):
    study, _ = make_study(Design.UNAIDED_ONLY, n_cases=1, n_readers=1, open_it=False)
    v1 = set_consent_text(study, "Version one.")
    study = services.open_study(study, truth_pending_allowed=True)
    assert set_consent_text(study, "Version one.").pk == v1.pk  # unchanged: no new version
    v2 = set_consent_text(study, "Version two.")
    assert (v1.number, v2.number) == (1, 2)
    assert ConsentVersion.objects.get(pk=v1.pk).text == "Version one."
    assert current_version(study).pk == v2.pk


def test_a_version_of_an_open_study_cannot_be_edited(make_study):
    study, (reader,) = make_study(Design.UNAIDED_ONLY, n_cases=1, n_readers=1)
    version = set_consent_text(study, "Text the reader accepts.")
    reading_consent.accept(reader, study, version.number)
    version.text = "Something else"
    with pytest.raises(StudyError) as exc:
        version.save()
    assert exc.value.code == "consent_version_frozen"
    assert ConsentVersion.objects.get(pk=version.pk).text == "Text the reader accepts."


def test_a_closed_study_keeps_its_consent(make_study):
    study, _ = make_study(Design.UNAIDED_ONLY, n_cases=1, n_readers=1)
    set_consent_text(study, "Before closing.")
    study = services.close_study(study)
    with pytest.raises(StudyError) as exc:
        set_consent_text(study, "After closing.")
    assert exc.value.code == "study_closed"


def test_overlong_text_is_refused_with_its_length(make_study):
    study, _ = make_study(Design.UNAIDED_ONLY, n_cases=1, n_readers=1, open_it=False)
    with pytest.raises(StudyError) as exc:
        set_consent_text(study, "x" * 20_001)
    assert exc.value.code == "consent_too_long" and "20001" in exc.value.message


def test_the_coordinator_edits_the_text_on_the_study_page(client, make_study):
    study, _ = make_study(Design.UNAIDED_ONLY, n_cases=1, n_readers=1)
    coordinator = CoordinatorFactory()
    client.login(username=coordinator.username, password=PASSWORD)
    url = reverse("study-consent", args=[study.pk])
    for text in ("First text.", "Second text."):
        response = client.post(url, {"text": text})
        assert response.status_code == 302 and response.url.endswith("#study-consent")
    assert list(study.consent_versions.values_list("number", "text")) == [
        (2, "Second text."),
        (1, "First text."),
    ]
    page = client.get(reverse("study-detail", args=[study.pk])).content.decode()
    assert 'id="consent-versions"' in page and "Second text." in page
    assert client.get(url).status_code == 405  # changes only by POST
