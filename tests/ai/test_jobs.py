import pytest

from readerstudy.ai import runner, services
from readerstudy.ai.models import InferenceJob
from readerstudy.core.jobs import JobCancelled
from tests.factories import (
    PASSWORD,
    CoordinatorFactory,
    ModelVersionFactory,
    ReaderFactory,
    cases_with_series,
)

pytestmark = pytest.mark.django_db


def test_requests_are_idempotent_per_series_model_and_parameters(
    django_capture_on_commit_callbacks,
):
    case = cases_with_series(1)[0]
    model = ModelVersionFactory()
    # Enqueueing happens in on-commit callbacks: count them instead of running them.
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        a = services.request_inference(case, model, params={"explain": ["ig"]})
        b = services.request_inference(case, model, params={"explain": ["ig"]})
        c = services.request_inference(case, model, params={"explain": ["ig", "shap"]})
    assert a.pk == b.pk != c.pk
    assert len(enqueued) == 2  # the repeated request enqueued nothing
    assert InferenceJob.objects.count() == 2


def test_cancelled_queued_job_never_runs(django_capture_on_commit_callbacks):
    case = cases_with_series(1)[0]
    with django_capture_on_commit_callbacks(execute=False):
        job = services.request_inference(case, ModelVersionFactory())
    services.cancel(job)
    assert runner.execute(job_id=str(job.pk)) == "skipped"
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("cancelled", 0)
    job.status = "succeeded"
    job.save()
    with pytest.raises(services.InferenceRefused, match="cannot be cancelled"):
        services.cancel(job)


def test_failed_job_records_the_reason_and_can_be_requested_again(
    django_capture_on_commit_callbacks,
):
    case = cases_with_series(1)[0]
    model = ModelVersionFactory(model_id="not_installed_model")
    with django_capture_on_commit_callbacks(execute=False):
        job = services.request_inference(case, model)
    with pytest.raises(Exception, match="unknown model 'not_installed_model'"):
        runner.execute(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.status == "failed"
    assert "unknown model" in job.error
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        again = services.request_inference(case, model)
    assert again.pk == job.pk
    assert len(enqueued) == 1  # a failed job is queued again
    again.refresh_from_db()
    assert again.status == "queued"


def test_job_api_is_for_coordinators(client):
    case = cases_with_series(1)[0]
    model = ModelVersionFactory()
    client.login(username=ReaderFactory().username, password=PASSWORD)
    assert (
        client.post(
            "/api/ai/jobs/",
            {"case": case.code, "model_version": model.pk},
            content_type="application/json",
        ).status_code
        == 403
    )
    client.login(username=CoordinatorFactory().username, password=PASSWORD)
    r = client.post(
        "/api/ai/jobs/",
        {"case": case.code, "model_version": model.pk, "explain": ["nonsense"]},
        content_type="application/json",
    )
    assert r.status_code == 400
    assert "nonsense" in r.json()["detail"]
    assert client.get("/api/ai/models/").json()[0]["model_id"] == model.model_id


def _queued_job(django_capture_on_commit_callbacks, **params):
    case = cases_with_series(1)[0]
    with django_capture_on_commit_callbacks(execute=False):
        return services.request_inference(case, ModelVersionFactory(), params=params or None)


@pytest.mark.parametrize(("last_try", "after"), [(False, "queued"), (True, "failed")])
def test_a_transient_error_gives_the_job_back_for_the_retry(
    django_capture_on_commit_callbacks, monkeypatch, last_try, after
):
    job = _queued_job(django_capture_on_commit_callbacks)

    def broker_gone(version):
        raise ConnectionError("the broker went away")

    monkeypatch.setattr(runner, "load_model", broker_gone)
    with pytest.raises(ConnectionError):
        runner.execute(job_id=str(job.pk), last_try=last_try)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (after, 1)
    if last_try:
        assert job.error_code == "unavailable" and "broker went away" in job.error


def test_the_job_api_shows_the_lifecycle_and_cancels_a_running_job(
    client, django_capture_on_commit_callbacks
):
    job = _queued_job(django_capture_on_commit_callbacks)
    running = InferenceJob.claim(job.pk)
    running.progress("predicting", done=15, total=100)
    client.login(username=CoordinatorFactory().username, password=PASSWORD)
    body = client.get(f"/api/ai/jobs/{job.pk}/").json()
    assert (body["status"], body["phase"], body["progress"], body["percent"]) == (
        "running", "predicting", 15, 15.0,
    )  # fmt: skip
    assert (body["done"], body["total"], body["error_code"], body["can_cancel"]) == (
        15,
        100,
        "",
        True,
    )
    assert body["attempts"] == 1 and body["worker_host"] and body["heartbeat_at"]
    cancelled = client.post(f"/api/ai/jobs/{job.pk}/cancel/").json()
    assert (cancelled["status"], cancelled["cancel_requested"]) == ("running", True)
    with pytest.raises(JobCancelled):
        running.progress("saving", done=85)
    assert client.get(f"/api/ai/jobs/{job.pk}/").json()["status"] == "cancelled"
    refused = client.post(f"/api/ai/jobs/{job.pk}/cancel/")
    assert refused.status_code == 200  # cancelled already: nothing to do
    job.status = "succeeded"
    job.save()
    refused = client.post(f"/api/ai/jobs/{job.pk}/cancel/")
    assert refused.status_code == 409 and refused.json()["code"] == "inference_refused"


def test_the_study_page_shows_each_model_job_with_a_cancel_button_while_it_can_stop(
    client, django_capture_on_commit_callbacks
):
    from readerstudy.studies.models import AssistanceConfig, ReaderStudy, StudyCase

    job = _queued_job(django_capture_on_commit_callbacks)
    coordinator = CoordinatorFactory()
    study = ReaderStudy.objects.create(
        title="s", design="crossover", randomization_seed=1, created_by=coordinator
    )
    StudyCase.objects.create(study=study, case=job.case)
    AssistanceConfig.objects.update_or_create(
        study=study, defaults={"model_version": job.model_version}
    )
    client.login(username=coordinator.username, password=PASSWORD)
    page = client.get(f"/studies/{study.pk}/").content.decode()
    assert 'data-job-status="queued"' in page
    assert f'data-cancel-url="/api/ai/jobs/{job.pk}/cancel/"' in page
    InferenceJob.claim(job.pk).fail("the volume is empty", code="empty_volume")
    page = client.get(f"/studies/{study.pk}/").content.decode()
    assert "<code>empty_volume</code> the volume is empty" in page and "data-cancel-url" not in page
