"""An aided read whose model output is not ready says how far the model is (409, nothing shown)."""

import datetime as dt

import pytest
from django.utils import timezone

from readerstudy.ai.models import InferenceJob
from readerstudy.reading import services
from readerstudy.studies.models import Assignment, Design
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
ANSWER = {"diagnosis": "sich", "confidence": 20}


@pytest.fixture
def aided_read(make_study):
    study, (reader, _) = make_study(Design.SEQUENTIAL_PER_CASE, n_cases=1)
    unaided = Assignment.objects.get(study=study, reader__user=reader, condition="unaided")
    services.start(reader, unaided.pk)
    services.submit(reader, unaided.pk, ANSWER, client_request_id="u", lock=True)
    aided = Assignment.objects.get(prerequisite=unaided)
    services.start(reader, aided.pk)
    return study, reader, aided


def _job(study, **fields):
    case = study.study_cases.get().case
    return InferenceJob.objects.create(
        case=case, series=case.primary_series, model_version=study.assistance.model_version,
        params={}, params_hash="x", **fields,
    )  # fmt: skip


def _ask(client, reader, aided):
    client.login(username=reader.username, password=PASSWORD)
    return client.get(f"/api/reading/assignments/{aided.pk}/assistance/")


@pytest.mark.parametrize(
    ("job", "says"),
    [
        (None, "has not been run on this case"),
        ({"status": "queued"}, "queued, waiting for a worker"),
        (
            {"status": "running", "done": 50, "total": 100, "started_at": 20},
            "(50%, about 20 s left)",
        ),
        (
            {"status": "running", "done": 5, "total": 100, "started_at": 1},
            "running on this case (5%)",
        ),
        ({"status": "failed"}, "failed"),
    ],
)
def test_a_pending_output_is_a_409_that_says_how_far_the_model_is(client, aided_read, job, says):
    study, reader, aided = aided_read
    if job is not None:
        job = dict(job)
        if "started_at" in job:
            job["started_at"] = timezone.now() - dt.timedelta(seconds=job["started_at"])
        _job(study, **job)
    response = _ask(client, reader, aided)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "assistance_pending"
    assert says in body["detail"]
    assert aided.exposures.count() == 0


def test_another_reader_learns_nothing_about_the_job(client, aided_read):
    study, reader, aided = aided_read
    _job(study, status="running", done=50, total=100, started_at=timezone.now())
    other = study.readers.exclude(user=reader).get().user
    response = _ask(client, other, aided)
    assert response.status_code == 404
    assert "running" not in response.content.decode()
