"""Uploads on the real stack: the web answers 202, a separate worker process imports the files
from the upload storage (shared through the data dir) and removes them; a worker killed
mid-import leaves the job to the next worker, which imports it once."""

import io
import os
import signal
import zipfile

import pytest
from django.test import Client

from readerstudy.cases.models import Case, ImportJob, Instance
from tests.cases.conftest import upload_leftovers
from tests.conftest import wait_for
from tests.factories import CoordinatorFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_queue")]
ENDED = ("succeeded", "failed", "cancelled")


def _study_zip(tmp_path, *, thin: bool, matrix: int) -> io.BytesIO:
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "ph", 1, 41, thin=thin, matrix=matrix)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for p in sorted((tmp_path / "ph" / records[0]["case_id"]).glob("*.dcm")):
            zf.write(p, f"study/{p.name}")
    buffer.seek(0)
    buffer.name = "study.zip"
    return buffer


def _coordinator() -> Client:
    client = Client()
    client.force_login(CoordinatorFactory())
    return client


def _job(job_id) -> ImportJob:
    return ImportJob.objects.get(pk=job_id)


def _removed() -> None:
    """The worker removes the upload right after it ended the job."""
    wait_for(lambda: upload_leftovers() == set(), timeout=15, message="the upload's removal")


def test_a_worker_imports_the_upload_and_removes_it(worker_factory, tmp_path):
    worker_factory(name="importer", queues="default")
    client = _coordinator()
    response = client.post(
        "/api/cases/uploads/", {"files": [_study_zip(tmp_path, thin=False, matrix=128)]}
    )
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    url = response["Location"]
    phases = set()

    def ended():
        state = client.get(url).json()
        phases.add(state["phase"])
        return state if state["status"] in ENDED else None

    state = wait_for(ended, timeout=180, interval=0.1, message="the worker to import the upload")
    assert state["status"] == "succeeded", state
    job = _job(state["id"])
    assert job.worker_host and job.attempts == 1
    assert Case.objects.count() == 1 and Instance.objects.count() == job.done
    _removed()
    assert "done" in phases and len(phases) >= 2  # seen queued/running before the end


def test_a_worker_killed_mid_import_leaves_the_job_to_the_next_one(worker_factory, tmp_path):
    upload = _study_zip(tmp_path, thin=True, matrix=256)
    victim = worker_factory(name="victim", queues="default", visibility_timeout=3)
    response = _coordinator().post("/api/cases/uploads/", {"files": [upload]})
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    wait_for(
        lambda: _job(job_id).phase in ("validating", "de-identifying") and _job(job_id).done > 0,
        timeout=180,
        interval=0.05,
        message="the first worker to be importing",
    )
    os.killpg(victim.pid, signal.SIGKILL)  # the whole worker: main process and pool child
    victim.wait()
    killed = _job(job_id)
    assert killed.status == "running" and Case.objects.count() == 0, killed.phase
    assert upload_leftovers()  # the files wait for the redelivery

    worker_factory(name="rescuer", queues="default", visibility_timeout=3)
    wait_for(lambda: _job(job_id).status in ENDED, timeout=240, interval=0.5, message="the rescue")
    job = _job(job_id)
    assert job.status == "succeeded", (job.error_code, job.error)
    assert job.attempts == 2  # delivered twice, imported once
    assert Case.objects.count() == 1 and Instance.objects.count() == job.done
    _removed()
