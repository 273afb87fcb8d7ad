"""Cancelling an analysis run: the API, the page's button, and a run stopped midway."""

import pytest
from django.core.files.storage import default_storage

from readerstudy.exports import runner
from readerstudy.exports.models import AnalysisRun
from readerstudy.studies import services as study_services
from tests.factories import PASSWORD, AdminFactory, CoordinatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_study(finished_study):
    study, _, _ = finished_study
    study_services.close_study(study)
    return study


def _login(client, user):
    client.logout()
    assert client.login(username=user.username, password=PASSWORD)


def test_a_queued_run_is_cancelled_and_never_runs(client, closed_study):
    run = AnalysisRun.objects.create(study=closed_study, options={})
    _login(client, AdminFactory())
    response = client.post(f"/api/exports/analyses/{run.pk}/cancel/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["cancel_requested"], body["can_cancel"]) == (
        "cancelled", True, False,
    )  # fmt: skip
    assert {"phase", "done", "total", "error_code", "timings", "versions"} <= set(body)
    assert runner.execute_analysis(run_id=str(run.pk)) == "skipped"
    run.refresh_from_db()
    assert (run.status, run.attempts, run.files) == ("cancelled", 0, [])
    again = client.post(f"/api/exports/analyses/{run.pk}/cancel/")
    assert again.status_code == 200  # cancelling twice is fine


def test_a_finished_run_cannot_be_cancelled(
    client, closed_study, django_capture_on_commit_callbacks
):
    _login(client, AdminFactory())
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            f"/api/exports/studies/{closed_study.pk}/analyses/",
            {"report": {"n_bootstrap": 200}},
            content_type="application/json",
        )
    run_id = created.json()["id"]
    detail = client.get(f"/api/exports/analyses/{run_id}/").json()
    assert detail["status"] == "succeeded" and detail["percent"] == 100.0
    assert detail["attempts"] == 1 and detail["worker_host"]
    assert {"inputs_s", "statistics_s", "files_s", "total_s"} <= set(detail["timings"])
    assert detail["versions"]["numpy"] and detail["versions"]["python"]
    response = client.post(f"/api/exports/analyses/{run_id}/cancel/")
    assert response.status_code == 409
    assert response.json() == {
        "code": "invalid_transition",
        "detail": "a succeeded analysis run cannot become cancelled",
    }


def test_only_who_may_see_the_run_may_cancel_it(client, finished_study):
    study, _, _ = finished_study  # open, coordinators blinded
    run = AnalysisRun.objects.create(study=study, options={})
    _login(client, CoordinatorFactory())
    assert client.post(f"/api/exports/analyses/{run.pk}/cancel/").status_code == 403
    client.logout()
    assert client.post(f"/api/exports/analyses/{run.pk}/cancel/").status_code in (401, 403)
    run.refresh_from_db()
    assert run.status == "queued"


def test_a_run_cancelled_midway_stops_and_keeps_no_files(closed_study, monkeypatch):
    run = AnalysisRun.objects.create(study=closed_study, options={"report": {"n_bootstrap": 200}})
    real_store = runner._store

    def store_then_cancel(job, paths, names):  # the cancel arrives while files are stored
        real_store(job, paths[:1], names)
        AnalysisRun.objects.get(pk=job.pk).cancel()
        real_store(job, paths[1:], names)

    monkeypatch.setattr(runner, "_store", store_then_cancel)
    assert runner.execute_analysis(run_id=str(run.pk)) == "cancelled"
    run.refresh_from_db()
    assert (run.status, run.files, run.summary) == ("cancelled", [], {})
    assert not default_storage.exists(f"analyses/{run.pk}/reads.csv")
    folder = f"analyses/{run.pk}"
    assert not default_storage.exists(folder) or default_storage.listdir(folder)[1] == []


def test_the_page_shows_the_progress_and_a_cancel_button_while_queued(client, closed_study):
    run = AnalysisRun.objects.create(study=closed_study, options={})
    _login(client, AdminFactory())
    page = client.get(f"/exports/analyses/{run.pk}/").content.decode()
    assert 'class="job-progress" data-job-status="queued"' in page
    assert f'data-cancel-url="/api/exports/analyses/{run.pk}/cancel/"' in page
    assert '<meta http-equiv="refresh"' in page
    run.cancel()
    page = client.get(f"/exports/analyses/{run.pk}/").content.decode()
    assert 'data-job-status="cancelled"' in page and "data-cancel-url" not in page
    AnalysisRun.objects.filter(pk=run.pk).update(
        status="failed", error_code="invalid_reads", error="no read case has ground truth"
    )
    page = client.get(f"/exports/analyses/{run.pk}/").content.decode()
    assert "<code>invalid_reads</code> no read case has ground truth" in page
