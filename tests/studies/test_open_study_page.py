"""Opening needs truth for the endpoint (or an explicit "later"); the open study's record."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from readerstudy.ai.models import InferenceJob
from readerstudy.cases.models import Collection, GroundTruth
from readerstudy.studies import services
from readerstudy.studies.errors import TruthMissing
from readerstudy.studies.models import Design, ReaderStudy
from tests.factories import (
    PASSWORD,
    CoordinatorFactory,
    ModelVersionFactory,
    ReaderFactory,
    cases_with_series,
    make_inference_output,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator_client(client):
    assert client.login(username=CoordinatorFactory().username, password=PASSWORD)
    return client


@pytest.fixture
def draft():
    collection = Collection.objects.create(name="Cohort North")
    cases = cases_with_series(3)
    for case in cases:
        case.collection = collection
        case.save(update_fields=["collection"])
    GroundTruth.objects.create(case=cases[0], etiology="cvst_ich")
    GroundTruth.objects.create(case=cases[1], etiology="other")  # not the study's endpoint
    study = services.create_study(title="truth", design=Design.SEQUENTIAL_PER_CASE)
    services.add_cases(study, cases)
    services.enroll_reader(study, ReaderFactory())
    model = ModelVersionFactory()
    services.configure_assistance(study, model_version=model)
    return study, cases, model


def _job(case, model, **fields):
    return InferenceJob.objects.create(
        case=case, series=case.primary_series, model_version=model, params={},
        params_hash="x" * 64, **fields,
    )  # fmt: skip


def test_opening_is_refused_naming_the_cases_without_truth(draft):
    study, cases, _ = draft
    with pytest.raises(TruthMissing) as refused:
        services.open_study(study, truth_pending_allowed=False)
    assert refused.value.cases == [cases[1].code, cases[2].code]
    assert cases[0].code not in refused.value.message
    study.refresh_from_db()
    assert study.status == ReaderStudy.Status.DRAFT
    assert not study.assignments.exists()


def test_opening_with_truth_later_is_recorded(draft):
    study, _, _ = draft
    study = services.open_study(study, truth_pending_allowed=True)
    assert (study.status, study.truth_pending_allowed) == ("open", True)


def test_the_api_refuses_with_409_and_opens_with_truth_later(draft, coordinator_client):
    study, cases, _ = draft
    r = coordinator_client.post(f"/api/studies/{study.pk}/open/")
    assert r.status_code == 409
    assert r.json()["code"] == "truth_missing"
    assert cases[1].code in r.json()["detail"] and cases[2].code in r.json()["detail"]
    r = coordinator_client.post(
        f"/api/studies/{study.pk}/open/", {"truth_pending_allowed": True},
        content_type="application/json",
    )  # fmt: skip
    assert r.status_code == 200, r.content
    assert r.json()["truth_pending_allowed"] is True


def test_the_page_refuses_then_opens_with_truth_later(draft, coordinator_client):
    study, cases, _ = draft
    page = coordinator_client.get(f"/studies/{study.pk}/").content.decode()
    assert "Open now, truth will be added later" in page
    assert f"2 cases without truth for the endpoint: {cases[1].code}, {cases[2].code}" in page
    r = coordinator_client.post(f"/studies/{study.pk}/open/", follow=True)
    body = r.content.decode()
    assert "2 case(s) have no truth for the endpoint" in body and cases[2].code in body
    study.refresh_from_db()
    assert study.status == "draft"
    coordinator_client.post(f"/studies/{study.pk}/open/", {"truth_pending_allowed": "on"})
    study.refresh_from_db()
    assert (study.status, study.truth_pending_allowed) == ("open", True)
    page = coordinator_client.get(f"/studies/{study.pk}/").content.decode()
    assert "Opened with truth pending" in page


def test_the_case_picker_shows_collection_and_truth(draft, coordinator_client):
    study, cases, _ = draft
    page = coordinator_client.get(f"/studies/{study.pk}/").content.decode()
    assert 'id="case-collection-filter"' in page
    assert '<option value="Cohort North">Cohort North</option>' in page
    assert 'data-collection="Cohort North"' in page
    assert "labelled (cvst_ich)" in page
    assert page.count("no truth") >= 1


def test_the_open_study_shows_its_frozen_record_and_model_jobs(draft, coordinator_client):
    study, cases, model = draft
    make_inference_output(cases[0], model)
    _job(
        cases[1], model, status=InferenceJob.Status.RUNNING, done=50, total=100,
        started_at=timezone.now() - timedelta(seconds=30),
    )  # fmt: skip
    study = services.open_study(study, truth_pending_allowed=True)
    page = coordinator_client.get(f"/studies/{study.pk}/").content.decode()
    for text in (
        "Design (frozen)", "Cohort North", "labelled (cvst_ich)", "no truth yet", "Radiologist",
        "Reading: all cases unaided; Reading: all cases aided", "cvst_ich_demo 1.0.0", "high_sensitivity", 'id="model-jobs"',
    ):  # fmt: skip
        assert text in page, text
    assert 'id="case-form"' not in page  # nothing to edit once open
    assert 'data-status="succeeded" title="the model&#x27;s job for this case is succeeded"' in page
    assert 'data-status="running"' in page and re.search(r"about (29|30|31|32) s", page)
    assert 'data-status="none"' in page and "not run" in page
    assert '<meta http-equiv="refresh"' in page  # refreshes while a job runs
    InferenceJob.objects.filter(status="running").update(status="succeeded", done=100, total=100)
    page = coordinator_client.get(f"/studies/{study.pk}/").content.decode()
    assert '<meta http-equiv="refresh"' not in page


def test_running_the_model_computes_only_the_maps_the_study_shows(coordinator_client, draft):
    study, cases, model = draft
    services.configure_assistance(study, model_version=model, heatmaps=["ig", "gradcampp"])
    response = coordinator_client.post(f"/studies/{study.pk}/inference/")
    assert response.status_code == 302
    jobs = InferenceJob.objects.filter(case__in=cases)
    assert jobs.count() == 3
    assert {tuple(j.params["explain"]) for j in jobs} == {("gradcampp", "ig")}
