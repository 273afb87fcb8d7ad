"""The coordinator's practice setup: a practice case is never a study case, the rule is
checked, changes are audited, and only coordinators may make them."""

import pytest
from django.urls import reverse

from readerstudy.audit.models import AuditEntry
from readerstudy.studies import practice_services as setup
from readerstudy.studies import services
from readerstudy.studies.errors import StudyError
from readerstudy.studies.models import Design
from readerstudy.studies.practice import PracticeCase, PracticeRule
from tests.factories import CoordinatorFactory, ReaderFactory, cases_with_series
from tests.reading.practice_world import build

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(make_study):
    study, _ = make_study(Design.SEQUENTIAL_PER_CASE, n_cases=2, open_it=False)
    return study, CoordinatorFactory()


def _truth(case, etiology="sich"):
    from readerstudy.cases.models import GroundTruth

    GroundTruth.objects.create(case=case, etiology=etiology)
    return case


def test_a_practice_case_cannot_be_a_study_case(draft):
    study, by = draft
    study_case = study.study_cases.first().case
    _truth(study_case)
    with pytest.raises(StudyError) as exc:
        setup.add_case(study, study_case, by=by)
    assert exc.value.code == "practice_case_in_study"
    (case,) = cases_with_series(1)
    setup.add_case(study, _truth(case), by=by)
    with pytest.raises(StudyError) as exc:
        services.add_cases(study, [case])
    assert exc.value.code == "practice_case_in_study"
    assert not study.study_cases.filter(case=case).exists()
    with pytest.raises(StudyError) as exc:
        setup.add_case(study, case, by=by)
    assert exc.value.code == "practice_case_exists"
    (untruthed,) = cases_with_series(1)
    with pytest.raises(StudyError) as exc:
        setup.add_case(study, untruthed, by=by)
    assert exc.value.code == "practice_truth_missing"


def test_the_rule_is_checked_against_the_practice_cases(draft):
    study, by = draft
    with pytest.raises(StudyError) as exc:
        setup.configure(study, by=by, task_text="", rule=PracticeRule.AT_LEAST, min_correct=1)
    assert exc.value.code == "practice_min_correct" and "has 0" in exc.value.message
    with pytest.raises(StudyError) as exc:
        setup.configure(study, by=by, task_text="", rule="most")
    assert exc.value.code == "practice_rule_unknown"
    cases = [_truth(c) for c in cases_with_series(2)]
    for case in cases:
        setup.add_case(study, case, by=by)
    setup.configure(study, by=by, task_text="t", rule=PracticeRule.AT_LEAST, min_correct=2)
    with pytest.raises(StudyError) as exc:
        setup.remove_case(study, cases[0], by=by)
    assert exc.value.code == "practice_min_correct"
    setup.configure(study, by=by, task_text="t", rule=PracticeRule.AT_LEAST, min_correct=1)
    setup.remove_case(study, cases[0], by=by)
    assert list(PracticeCase.objects.values_list("case", flat=True)) == [cases[1].pk]


def test_changes_are_audited(draft):
    study, by = draft
    (case,) = cases_with_series(1)
    setup.add_case(study, _truth(case), by=by)
    setup.configure(study, by=by, task_text="Decide.", rule=PracticeRule.ALL_DONE)
    setup.configure(study, by=by, task_text="Decide.", rule=PracticeRule.ALL_DONE)  # no change
    setup.configure(study, by=by, task_text="Decide.", rule=PracticeRule.ALL_DONE, max_attempts=0)
    reader = study.readers.first()
    setup.grant_attempt(reader, by=by)
    setup.grant_qualification(reader, by=by)
    with pytest.raises(StudyError):
        setup.grant_qualification(reader, by=by)
    kinds = list(
        AuditEntry.objects.filter(study_id=study.pk, kind__startswith="practice.")
        .order_by("pk")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        "practice.case_add", "practice.configure", "practice.configure",
        "practice.grant_attempt", "practice.grant_qualification",
    ]  # fmt: skip
    entry = AuditEntry.objects.filter(kind="practice.configure").order_by("pk").last()
    assert entry.actor == by and entry.additional_data["changes"] == {"max_attempts": [2, 0]}


def test_a_closed_study_and_a_read_case_keep_their_practice(make_study, client):
    study, readers, practice, by = build(make_study)
    from readerstudy.reading import practice_services

    practice_services.submit(
        readers[0], study.pk, practice_case_id=practice[0].pk, condition="unaided",
        answers={"diagnosis": "sich", "confidence": 5}, client_request_id="x",
    )  # fmt: skip
    with pytest.raises(StudyError) as exc:
        setup.remove_case(study, practice[0].case, by=by)
    assert exc.value.code == "practice_case_read"
    services.close_study(study)
    study.refresh_from_db()
    with pytest.raises(StudyError) as exc:
        setup.configure(study, by=by, task_text="x", rule=PracticeRule.NONE)
    assert exc.value.code == "study_closed"


def test_the_study_page_edits_practice_for_coordinators_only(draft, client):
    study, by = draft
    (case,) = cases_with_series(1)
    _truth(case)
    client.force_login(ReaderFactory())
    url = reverse("study-practice-add", args=[study.pk])
    assert client.post(url, {"case": case.code}).status_code in (302, 403)
    assert not PracticeCase.objects.exists()
    client.force_login(by)
    assert client.post(url, {"case": case.code}).status_code == 302
    assert PracticeCase.objects.filter(study=study, case=case).exists()
    response = client.post(
        reverse("study-practice", args=[study.pk]),
        {
            "task_text": "Read carefully.",
            "rule": "at_least",
            "min_correct": "5",
            "max_attempts": "2",
        },
        follow=True,
    )
    assert "asks for 5 correct practice cases" in response.content.decode()
    page = client.get(reverse("study-detail", args=[study.pk])).content.decode()
    assert 'id="study-practice"' in page and case.code in page
