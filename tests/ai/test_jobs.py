import pytest

from readerstudy.ai import services
from readerstudy.ai.models import InferenceJob
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
    assert services.execute(job_id=str(job.pk)) == "skipped"
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
        services.execute(job_id=str(job.pk))
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
