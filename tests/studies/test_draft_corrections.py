"""A draft is exactly what the coordinator ticks; readers and drafts can be removed."""

import pytest

from readerstudy.studies import services
from readerstudy.studies.errors import ProtocolConflict, StudyError
from readerstudy.studies.models import Design, ReaderStudy, StudyCase, StudyReader
from tests.factories import PASSWORD, CoordinatorFactory, ReaderFactory, cases_with_series

pytestmark = pytest.mark.django_db


def _draft(n_cases=3, n_readers=2):
    study = services.create_study(title="draft", design=Design.UNAIDED_ONLY, randomization_seed=1)
    cases = cases_with_series(n_cases)
    readers = [ReaderFactory() for _ in range(n_readers)]
    services.add_cases(study, cases)
    for user in readers:
        services.enroll_reader(study, user)
    return study, cases, readers


@pytest.fixture
def coordinator_client(client):
    assert client.login(username=CoordinatorFactory().username, password=PASSWORD)
    return client


def _codes(study):
    return sorted(study.study_cases.values_list("case__code", flat=True))


def test_set_cases_keeps_exactly_the_ticked_cases():
    study, cases, _ = _draft()
    extra = cases_with_series(1)[0]
    assert services.set_cases(study, [cases[0], extra]) == (1, 2)
    assert _codes(study) == sorted([cases[0].code, extra.code])
    assert services.set_cases(study, []) == (0, 2)
    assert not study.study_cases.exists()


def test_set_readers_keeps_exactly_the_ticked_readers():
    study, _, readers = _draft()
    newcomer = ReaderFactory()
    assert services.set_readers(study, [readers[1], newcomer]) == (1, 1)
    assert set(study.readers.values_list("user_id", flat=True)) == {readers[1].pk, newcomer.pk}


def test_remove_reader_and_its_errors():
    study, _, readers = _draft()
    services.remove_reader(study, readers[0])
    assert list(study.readers.values_list("user_id", flat=True)) == [readers[1].pk]
    with pytest.raises(StudyError, match="is not a reader of this study"):
        services.remove_reader(study, readers[0])


def test_an_opened_study_cannot_be_corrected_or_deleted():
    study, cases, readers = _draft()
    study = services.open_study(study, truth_pending_allowed=True)
    with pytest.raises(ProtocolConflict):
        services.set_cases(study, cases[:1])
    with pytest.raises(ProtocolConflict):
        services.remove_reader(study, readers[0])
    with pytest.raises(ProtocolConflict):
        services.delete_draft(study)
    assert StudyCase.objects.filter(study=study).count() == 3


def test_unticking_a_case_on_the_page_removes_it(coordinator_client):
    study, cases, _ = _draft()
    r = coordinator_client.post(
        f"/studies/{study.pk}/cases/", {"cases": [cases[0].pk, cases[2].pk]}, follow=True
    )
    assert _codes(study) == sorted([cases[0].code, cases[2].code])
    assert "Cases: 0 added, 1 removed." in r.content.decode()


def test_unticking_every_reader_on_the_page_removes_them(coordinator_client):
    study, _, _ = _draft()
    coordinator_client.post(f"/studies/{study.pk}/readers/", {})
    assert not study.readers.exists()


def test_the_page_removes_one_reader(coordinator_client):
    study, _, readers = _draft()
    page = coordinator_client.get(f"/studies/{study.pk}/").content.decode()
    assert f"Remove {readers[0].username}" in page
    r = coordinator_client.post(
        f"/studies/{study.pk}/remove-reader/", {"user": readers[0].pk}, follow=True
    )
    assert f"{readers[0].username} removed from the study." in r.content.decode()
    assert list(StudyReader.objects.filter(study=study).values_list("user_id", flat=True)) == [
        readers[1].pk
    ]
    r = coordinator_client.post(f"/studies/{study.pk}/remove-reader/", {"user": 999}, follow=True)
    assert "that user is not a reader of this study" in r.content.decode()


def test_a_draft_is_deleted_after_confirmation(coordinator_client):
    study, cases, readers = _draft()
    page = coordinator_client.get(f"/studies/{study.pk}/delete/")
    assert page.status_code == 200
    assert "Delete the draft" in page.content.decode()
    assert ReaderStudy.objects.filter(pk=study.pk).exists()  # asking deletes nothing
    r = coordinator_client.post(f"/studies/{study.pk}/delete/", follow=True)
    assert r.redirect_chain[-1][0] == "/studies/"
    assert not ReaderStudy.objects.filter(pk=study.pk).exists()
    assert all(c.__class__.objects.filter(pk=c.pk).exists() for c in cases)  # cases stay


def test_an_open_study_is_not_deleted_from_the_page(coordinator_client):
    study, _, _ = _draft()
    services.open_study(study, truth_pending_allowed=True)
    r = coordinator_client.post(f"/studies/{study.pk}/delete/", follow=True)
    assert "can no longer change" in r.content.decode()
    assert ReaderStudy.objects.filter(pk=study.pk).exists()
