"""Live import progress: phases and counts, the job row seen from another connection while an
import runs, and the two-step upload API (create a job, then send its files: 202, then the
worker imports them)."""

import io
import threading
import time
import zipfile
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from readerstudy.cases import runner, uploads
from readerstudy.cases.dicom import prepare_upload
from readerstudy.cases.ingest import import_study
from readerstudy.cases.models import Case, ImportJob
from readerstudy.cases.progress import JobProgress
from tests.cases.conftest import library_snapshot, upload_leftovers
from tests.factories import PASSWORD, AdminFactory, CoordinatorFactory, ReaderFactory

SECRET = b"test-site-secret-0123456789abcdef"
PHASE_ORDER = ["received", "validating", "de-identifying", "storing"]


class Spy:
    def __init__(self):
        self.calls: list[tuple[str, int, int]] = []

    def __call__(self, phase, done, total):
        self.calls.append((phase, done, total))


def _check_phases(calls, expected_phases):
    phases = list(dict.fromkeys(phase for phase, _, _ in calls))
    assert phases == expected_phases
    for phase in phases:
        rows = [(done, total) for p, done, total in calls if p == phase]
        totals = {total for _, total in rows}
        assert len(totals) == 1, (phase, totals)
        dones = [done for done, _ in rows]
        assert dones == sorted(dones), (phase, dones)  # monotonic
        assert dones[0] == 0 and dones[-1] == rows[0][1]  # from 0 to complete
    for phase, done, total in calls:
        assert isinstance(phase, str) and isinstance(done, int) and isinstance(total, int)
    return {p: next(t for q, _, t in calls if q == p) for p in phases}


def _study_files(phantom_dir, index=0) -> list[Path]:
    out, records = phantom_dir
    return sorted((out / records[index]["case_id"]).glob("*.dcm"))


def _zip(paths, name="study.zip") -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for p in paths:
            zf.write(p, f"study/{p.name}")
    buffer.seek(0)
    buffer.name = name
    return buffer


# -- the callback --------------------------------------------------------------------------


def test_prepare_upload_reports_validating_then_deidentifying_per_file(phantom_dir):
    files = _study_files(phantom_dir)
    extra = [("README.txt", b"not dicom")]
    spy = Spy()
    source = [(p.name, p.read_bytes()) for p in files] + extra
    prepared = prepare_upload(source, pseudonym_for=lambda k: "P-1", secret=SECRET, progress=spy)
    assert prepared.ok
    totals = _check_phases(spy.calls, ["validating", "de-identifying"])
    assert totals == {"validating": len(files) + 1, "de-identifying": len(files)}
    # once per file (plus the opening 0) in each phase
    assert sum(1 for p, _, _ in spy.calls if p == "de-identifying") == len(files) + 1
    assert spy.calls[0] == ("validating", 0, len(files) + 1)


@pytest.mark.django_db
def test_import_study_adds_the_storing_phase(phantom_dir):
    files = _study_files(phantom_dir)
    spy = Spy()
    outcome = import_study([(p.name, p.read_bytes()) for p in files], progress=spy)
    totals = _check_phases(spy.calls, ["validating", "de-identifying", "storing"])
    assert totals["storing"] == outcome.case.primary_series.num_slices == len(files)
    assert spy.calls[-1] == ("storing", len(files), len(files))


@pytest.mark.django_db(transaction=True)
def test_progress_writes_are_throttled():
    job = ImportJob.objects.create(source="upload", status=ImportJob.Status.RUNNING)
    with JobProgress(job.pk, interval=0.25) as progress:
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < 0.6:
            n += 1
            progress("validating", n, 10**6)
        time.sleep(0.3)
    assert progress.writes <= 5  # ~0.9 s at most 4 per second, not one per call
    job.refresh_from_db()
    assert job.phase == "validating" and 0 < job.done <= n


@pytest.mark.django_db(transaction=True)
def test_progress_never_overwrites_a_finished_job():
    job = ImportJob.objects.create(source="upload", status=ImportJob.Status.SUCCEEDED, phase="done")
    with JobProgress(job.pk, interval=0.01) as progress:
        progress("storing", 1, 2)
        time.sleep(0.2)
    job.refresh_from_db()
    assert (job.phase, job.done, job.total) == ("done", 0, 0)


# -- seen from another connection while the import runs -----------------------------------


@pytest.mark.django_db(transaction=True)
def test_pollers_see_the_phase_while_the_import_runs(phantom_dir, client, monkeypatch):
    """The import (the task, run eagerly by the upload request in a thread of its own) blocks in
    its progress callback; the test reads the job on its own connection and through the API
    meanwhile."""
    files = _study_files(phantom_dir)
    user = CoordinatorFactory()
    job = uploads.create_upload_job(user=user)
    reached, release = threading.Event(), threading.Event()
    seen: list[tuple[str, int, int]] = []
    real_import = runner.import_study

    def blocking_import(pairs, *, progress, **options):
        def spy(phase, done, total):
            seen.append((phase, done, total))
            progress(phase, done, total)
            if phase == "de-identifying" and done == 3:
                reached.set()
                assert release.wait(30), "the test never released the import"

        return real_import(pairs, progress=spy, **options)

    monkeypatch.setattr(runner, "import_study", blocking_import)
    outcome: dict = {}

    def run():
        try:
            uploader = Client()
            uploader.force_login(user)
            url = f"/api/cases/imports/{job.pk}/upload/"
            outcome["response"] = uploader.post(url, {"files": [_zip(files)]})
        except BaseException as exc:  # reported by the test thread
            outcome["error"] = exc
        finally:
            connection.close()

    importer = threading.Thread(target=run)
    importer.start()
    try:
        assert reached.wait(60), outcome
        client.login(username=CoordinatorFactory().username, password=PASSWORD)
        deadline = time.monotonic() + 5
        state = None
        while time.monotonic() < deadline:
            state = client.get(f"/api/cases/imports/{job.pk}/").json()
            if state["phase"] == "de-identifying" and state["done"] >= 3:
                break
            time.sleep(0.05)
        assert state["status"] == "running", state
        assert (state["phase"], state["done"], state["total"]) == (
            "de-identifying",
            3,
            len(files),
        ), state
        row = ImportJob.objects.get(pk=job.pk)  # this thread's own connection
        assert (row.phase, row.done) == ("de-identifying", 3)
        assert row.heartbeat_at is not None
        assert Case.objects.count() == 0  # nothing stored before the storing phase
    finally:
        release.set()
        importer.join(60)
    assert "error" not in outcome, outcome
    assert outcome["response"].status_code == 202, outcome["response"].content
    job.refresh_from_db()
    assert job.status == "succeeded" and job.phase == "done"
    assert job.done == job.total == len(files)
    assert list(job.cases.values_list("code", flat=True)) == [Case.objects.get().code]
    _check_phases(seen, PHASE_ORDER[1:])  # "received" is reported before


# -- the two-step API -------------------------------------------------------------------------


def _login(client, user):
    client.logout()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.django_db
def test_two_step_upload_reports_the_case(
    phantom_dir, client, django_capture_on_commit_callbacks, no_upload_leftovers
):
    coordinator = CoordinatorFactory()
    _login(client, coordinator)
    created = client.post(
        "/api/cases/imports/", {"collection": "two-step"}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    job = created.json()
    assert job["status"] == "queued" and job["phase"] == "waiting" and job["cases"] == []
    url = f"/api/cases/imports/{job['id']}/"
    assert client.get(url).json()["status"] == "queued"
    files = _study_files(phantom_dir)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = client.post(f"{url}upload/", {"files": [_zip(files)]})
        # answered before the import: the job holds the files, queued for a worker
        assert response.status_code == 202, response.content
        accepted = response.json()
        assert response["Location"] == url
        assert (accepted["status"], accepted["phase"]) == ("queued", "received")
        assert accepted["done"] == accepted["total"] == 1 and accepted["cases"] == []
        assert Case.objects.count() == 0
    assert len(queued) == 1  # the task, sent once the job was committed
    body = client.get(url).json()
    case = Case.objects.get()
    assert body["status"] == "succeeded" and body["phase"] == "done"
    assert body["cases"] == [case.code] and body["done"] == body["total"] == len(files)
    assert case.collection.name == "two-step"
    polled = client.get(url)
    assert polled.json() == body and polled["Cache-Control"] == "no-store"
    # one upload per job
    again = client.post(f"{url}upload/", {"files": [_zip(files)]})
    assert again.status_code == 409 and again.json()["code"] == "job_not_waiting"
    # the one-step endpoint keeps working for scripts (same study: the existing case)
    with django_capture_on_commit_callbacks(execute=True):
        one_step = client.post("/api/cases/uploads/", {"files": [_zip(files)]})
    assert one_step.status_code == 202, one_step.content
    later = client.get(one_step["Location"]).json()
    assert later["cases"] == [case.code] and later["phase"] == "done" and later["created"] is False


@pytest.mark.django_db
def test_two_step_refusals(phantom_dir, client, django_capture_on_commit_callbacks):
    owner, other, reader, admin = (
        CoordinatorFactory(),
        CoordinatorFactory(),
        ReaderFactory(),
        AdminFactory(),
    )
    files = _study_files(phantom_dir)
    waiting = uploads.create_upload_job(user=owner)
    finished = uploads.create_upload_job(user=owner)
    _login(client, owner)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"/api/cases/imports/{finished.pk}/upload/", {"files": [_zip(files)]})
    assert r.status_code == 202, r.content

    _login(client, reader)
    assert client.post("/api/cases/imports/", {}).status_code == 403
    assert client.get(f"/api/cases/imports/{waiting.pk}/").status_code == 403
    r = client.post(f"/api/cases/imports/{waiting.pk}/upload/", {"files": [_zip(files)]})
    assert r.status_code == 403

    # any coordinator or admin may follow a job; only its creator sends its files
    for user in (other, admin):
        _login(client, user)
        assert client.get(f"/api/cases/imports/{finished.pk}/").json()["status"] == "succeeded"
        for job in (waiting, finished):
            r = client.post(f"/api/cases/imports/{job.pk}/upload/", {"files": [_zip(files)]})
            assert r.status_code == 403 and r.json()["code"] == "not_your_job"
    waiting.refresh_from_db()
    assert waiting.status == "queued" and waiting.phase == "waiting"
    missing = "00000000-0000-0000-0000-00000000abcd"
    assert client.get(f"/api/cases/imports/{missing}/").status_code == 404
    r = client.post(f"/api/cases/imports/{missing}/upload/", {"files": [_zip(files)]})
    assert r.status_code == 404
    assert Case.objects.count() == 1
    assert upload_leftovers() == set()  # refused uploads are not kept


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["not_dicom", "path_traversal", "truncated", "bad_zip"])
def test_bad_input_fails_the_job_and_stores_nothing(
    phantom_dir, client, bad, django_capture_on_commit_callbacks, no_upload_leftovers
):
    coordinator = CoordinatorFactory()
    _login(client, coordinator)
    job_id = client.post("/api/cases/imports/", {}).json()["id"]
    files = _study_files(phantom_dir)
    if bad == "not_dicom":
        payload = {"files": [io.BytesIO(b"hello"), io.BytesIO(b"world")]}
    elif bad == "path_traversal":
        evil = io.BytesIO()
        with zipfile.ZipFile(evil, "w") as zf:
            zf.writestr("../../etc/passwd.dcm", b"x")
        evil.seek(0)
        evil.name = "evil.zip"
        payload = {"files": [evil]}
    elif bad == "bad_zip":
        broken = _zip(files).getvalue()
        payload = {"files": [io.BytesIO(broken[: len(broken) // 2])]}
    else:
        data = [p.read_bytes() for p in files]
        data[3] = data[3][: len(data[3]) // 2]
        payload = {"files": [io.BytesIO(d) for d in data]}
    before = library_snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/cases/imports/{job_id}/upload/", payload)
    assert response.status_code == 202, response.content
    state = client.get(f"/api/cases/imports/{job_id}/").json()
    assert state["status"] == "failed" and state["phase"] == "failed"
    assert state["errors"] and state["cases"] == []
    codes = {e["code"] for e in state["errors"]}
    expected = {
        "not_dicom": "no_series",
        "path_traversal": "unsafe_path",
        "truncated": "truncated",
        "bad_zip": "bad_archive",
    }[bad]
    assert expected in codes, codes
    assert state["error_code"] == state["errors"][0]["code"]
    assert library_snapshot() == before


@pytest.mark.django_db
def test_no_files_fails_the_waiting_job_at_once(client, no_upload_leftovers):
    _login(client, CoordinatorFactory())
    job_id = client.post("/api/cases/imports/", {}).json()["id"]
    response = client.post(f"/api/cases/imports/{job_id}/upload/", {})
    assert response.status_code == 400 and response.json()["code"] == "no_files"
    state = client.get(f"/api/cases/imports/{job_id}/").json()
    assert (state["status"], state["error_code"]) == ("failed", "no_files")
    one_step = client.post("/api/cases/uploads/", {})
    assert one_step.status_code == 400 and one_step.json()["code"] == "no_files"
