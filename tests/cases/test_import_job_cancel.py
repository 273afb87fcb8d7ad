"""Import jobs on the common lifecycle: cancelling a queued one, the state a poller sees."""

import pytest

from readerstudy.cases import uploads
from readerstudy.cases.models import ImportJob
from tests.factories import PASSWORD, AdminFactory, CoordinatorFactory, ReaderFactory

pytestmark = pytest.mark.django_db


def _login(client, user):
    client.logout()
    assert client.login(username=user.username, password=PASSWORD)


def test_a_job_waiting_for_its_files_is_queued_in_the_waiting_phase_and_can_be_cancelled(client):
    owner = CoordinatorFactory()
    job = uploads.create_upload_job(user=owner)
    assert (job.status, job.phase, job.is_waiting, job.can_cancel) == (
        "queued",
        "waiting",
        True,
        True,
    )
    _login(client, owner)
    state = client.get(f"/api/cases/imports/{job.pk}/").json()
    assert (state["status"], state["phase"], state["can_cancel"]) == ("queued", "waiting", True)
    assert state["error_code"] == "" and state["cancel_requested"] is False
    response = client.post(f"/api/cases/imports/{job.pk}/cancel/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled" and response.json()["can_cancel"] is False
    job.refresh_from_db()
    assert job.status == "cancelled" and job.finished_at and not job.is_waiting


def test_who_may_cancel_an_import(client):
    owner, other, admin = CoordinatorFactory(), CoordinatorFactory(), AdminFactory()
    job = uploads.create_upload_job(user=owner)
    _login(client, ReaderFactory())
    assert client.post(f"/api/cases/imports/{job.pk}/cancel/").status_code == 403
    _login(client, other)
    refused = client.post(f"/api/cases/imports/{job.pk}/cancel/")
    assert refused.status_code == 403 and refused.json()["code"] == "not_your_job"
    missing = client.post("/api/cases/imports/00000000-0000-0000-0000-00000000abcd/cancel/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    job.refresh_from_db()
    assert job.status == "queued"
    _login(client, admin)  # a platform admin may cancel any import
    assert client.post(f"/api/cases/imports/{job.pk}/cancel/").json()["status"] == "cancelled"


@pytest.mark.parametrize("status", ["running", "succeeded", "failed"])
def test_a_running_or_finished_import_cannot_be_cancelled(client, status):
    owner = CoordinatorFactory()
    job = ImportJob.objects.create(source="upload", status=status, created_by=owner)
    _login(client, owner)
    response = client.post(f"/api/cases/imports/{job.pk}/cancel/")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "invalid_transition" and status in body["detail"]
    job.refresh_from_db()
    assert (job.status, job.cancel_requested) == (status, False)


def test_a_failed_import_records_its_first_error_as_the_job_error(client):
    owner = CoordinatorFactory()
    job = uploads.create_upload_job(user=owner)
    uploads.refuse_upload(job.pk, user=owner, code="upload_too_large", message="too large")
    job.refresh_from_db()
    assert (job.status, job.error_code, job.error) == ("failed", "upload_too_large", "too large")
    _login(client, owner)
    state = client.get(f"/api/cases/imports/{job.pk}/").json()
    assert (state["error_code"], state["error"]) == ("upload_too_large", "too large")


def test_the_case_library_shows_each_import_with_the_progress_partial(client):
    owner = CoordinatorFactory()
    waiting = uploads.create_upload_job(user=owner)
    ImportJob.objects.create(
        source="upload", status="failed", error_code="not_dicom", error="no DICOM file",
        errors=[{"code": "not_dicom", "message": "no DICOM file"}],
    )  # fmt: skip
    _login(client, owner)
    page = client.get("/cases/").content.decode()
    assert 'data-job-status="queued" data-job-phase="waiting"' in page
    assert f'data-cancel-url="/api/cases/imports/{waiting.pk}/cancel/"' in page
    assert "<code>not_dicom</code> no DICOM file" in page
