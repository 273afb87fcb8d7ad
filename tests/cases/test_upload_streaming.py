"""Uploads off the request: streamed to private files (never whole in memory), answered 202 with
the job, imported by the task from the upload storage, and the files removed whatever happens;
the size limit while streaming; a second delivery; the sweeper for what killed processes leave."""

import io
import os
import stat
import time
import tracemalloc
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.core.management import call_command
from django.http.multipartparser import MultiPartParser
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.utils import timezone

from readerstudy.cases import runner, staging, tasks, uploads
from readerstudy.cases.models import Case, ImportJob, Instance
from readerstudy.cases.progress import JobProgress
from readerstudy.cases.sweep import sweep_uploads
from readerstudy.cases.upload_handler import TEMP_PREFIX, StagedFile, StagedUploadHandler
from readerstudy.core.jobs import JobCancelled
from tests.cases.conftest import library_snapshot
from tests.factories import PASSWORD, CoordinatorFactory

MiB = 1024 * 1024


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


def _named(name: str, data: bytes) -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = name
    return upload


@pytest.fixture
def coordinator(client):
    user = CoordinatorFactory()
    assert client.login(username=user.username, password=PASSWORD)
    client.user = user
    return client


def _parse(handler, files: dict) -> tuple:
    body = encode_multipart(BOUNDARY, files)
    meta = {"CONTENT_TYPE": MULTIPART_CONTENT, "CONTENT_LENGTH": str(len(body))}
    parser = MultiPartParser(meta, io.BytesIO(body), [handler])
    tracemalloc.start()
    try:
        post, parsed = parser.parse()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return post, parsed, peak


# -- the upload handler ---------------------------------------------------------------------


def test_files_stream_to_private_files_never_whole_in_memory(tmp_path):
    data = os.urandom(16 * MiB)
    temp = tmp_path / "incoming"
    handler = StagedUploadHandler(max_bytes=64 * MiB, temp_dir=temp)
    _, files, peak = _parse(handler, {"files": [_named("a.dcm", data), _named("b.dcm", b"x")]})
    staged = files.getlist("files")
    assert [f.name for f in staged] == ["a.dcm", "b.dcm"]
    assert all(isinstance(f, StagedFile) and f.file is None for f in staged)  # no open handles
    assert Path(staged[0].temporary_file_path()).read_bytes() == data
    assert staged[0].size == len(data) and handler.received == len(data) + 1
    assert stat.S_IMODE(temp.stat().st_mode) == 0o700
    for f in staged:
        assert stat.S_IMODE(f.path.stat().st_mode) == 0o600 and f.path.name.startswith(TEMP_PREFIX)
    assert peak < 2 * MiB, peak  # chunks, not the 16 MiB file
    # the same measurement sees a handler that keeps the file in memory
    _, _, memory_peak = _parse(MemoryFileUploadHandler(), {"files": [_named("a.dcm", data)]})
    assert memory_peak > 16 * MiB
    handler.discard()
    assert list(temp.iterdir()) == []


def test_the_limit_holds_while_streaming(tmp_path):
    """A Content-Length within the limit is not trusted: the bytes are counted as they come."""
    temp = tmp_path / "incoming"
    handler = StagedUploadHandler(max_bytes=100_000, temp_dir=temp)
    handler.handle_raw_input(None, {}, 50_000, BOUNDARY)
    assert not handler.too_large
    handler.new_file("files", "a.dcm", "application/dicom", None)
    handler.receive_data_chunk(b"x" * 60_000, 0)
    assert handler.file_complete(60_000) is not None
    handler.new_file("files", "b.dcm", "application/dicom", None)
    handler.receive_data_chunk(b"x" * 30_000, 0)
    assert list(temp.iterdir())  # written so far
    assert handler.receive_data_chunk(b"x" * 30_000, 30_000) is None
    assert handler.too_large and list(temp.iterdir()) == []  # what was written is gone
    assert handler.file_complete(60_000) is None
    # a declared length past the limit is refused before anything is written
    early = StagedUploadHandler(max_bytes=100_000, temp_dir=temp)
    early.handle_raw_input(None, {}, 100_001, BOUNDARY)
    early.new_file("files", "a.dcm", "application/dicom", None)
    early.receive_data_chunk(b"x" * 10, 0)
    assert early.too_large and early.file_complete(10) is None and list(temp.iterdir()) == []


@pytest.mark.django_db
def test_a_too_large_upload_is_refused_with_413_and_not_kept(
    coordinator, settings, no_upload_leftovers
):
    settings.MAX_UPLOAD_BYTES = 50_000

    def big():
        return {"files": [_named("big.dcm", b"x" * 60_000)]}

    r = coordinator.post("/api/cases/uploads/", big())
    assert r.status_code == 413 and r.json()["code"] == "upload_too_large"
    assert r.json()["detail"] == "uploads are limited to 0 MB"  # the limit, in MB, floored
    job_id = coordinator.post("/api/cases/imports/", {}).json()["id"]
    r = coordinator.post(f"/api/cases/imports/{job_id}/upload/", big())
    assert r.status_code == 413 and r.json()["code"] == "upload_too_large"
    job = ImportJob.objects.get(pk=job_id)
    assert (job.status, job.error_code) == ("failed", "upload_too_large")
    page = coordinator.post("/cases/", big(), follow=True).content.decode()
    assert "Uploads are limited to 0 MB." in page
    assert ImportJob.objects.count() == 1 and Case.objects.count() == 0


# -- 202, the upload storage, the task ------------------------------------------------------


@pytest.mark.django_db
def test_the_job_comes_back_at_once_and_the_worker_imports_from_the_upload_storage(
    coordinator, phantom_dir, django_capture_on_commit_callbacks, no_upload_leftovers
):
    files = _study_files(phantom_dir)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        r = coordinator.post("/api/cases/uploads/", {"files": [_zip(files)], "collection": "c1"})
    assert r.status_code == 202, r.content
    job = r.json()
    assert (job["status"], job["phase"], job["done"], job["total"]) == ("queued", "received", 1, 1)
    assert r["Location"] == f"/api/cases/imports/{job['id']}/"
    # the files wait in the upload storage under the job's id, private; nothing imported yet
    store = Path(settings.STORAGES["uploads"]["OPTIONS"]["location"])
    folder = store / job["id"]
    assert sorted(p.name for p in folder.iterdir()) == ["000001", "manifest.json"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "000001").stat().st_mode) == 0o600
    assert staging.names(job["id"]) == ["study.zip"]
    assert not any(Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir())  # moved, not copied
    assert Case.objects.count() == 0 and len(queued) == 1
    queued[0]()  # the task, sent once the job was committed
    state = coordinator.get(r["Location"]).json()
    assert state["status"] == "succeeded" and len(state["cases"]) == 1, state
    assert Case.objects.get().collection.name == "c1"
    assert not folder.exists()


@pytest.mark.django_db
def test_many_files_each_stored_then_imported(
    coordinator, phantom_dir, upload_now, no_upload_leftovers
):
    files = _study_files(phantom_dir)
    payload = {"files": [_named(p.name, p.read_bytes()) for p in files]}
    r, state = upload_now(coordinator, "/api/cases/uploads/", payload)
    assert r.status_code == 202 and r.json()["total"] == len(files)
    assert state["status"] == "succeeded" and state["done"] == state["total"] == len(files)


@pytest.mark.django_db
def test_files_are_removed_when_the_import_fails_unexpectedly(
    coordinator, phantom_dir, upload_now, settings, tmp_path, no_upload_leftovers
):
    """The media storage cannot be written (its folder is a file): the job fails as an internal
    error, nothing is stored, and the upload is not kept."""
    blocked = tmp_path / "media-is-a-file"
    blocked.write_bytes(b"")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocked)},
        },
    }
    r, state = upload_now(
        coordinator, "/api/cases/uploads/", {"files": [_zip(_study_files(phantom_dir))]}
    )
    assert r.status_code == 202
    assert state["status"] == "failed" and state["error_code"] == "internal_error", state
    assert Case.objects.count() == 0


@pytest.mark.django_db
def test_a_second_delivery_imports_nothing(
    coordinator, phantom_dir, django_capture_on_commit_callbacks, no_upload_leftovers
):
    with django_capture_on_commit_callbacks(execute=False):
        r = coordinator.post("/api/cases/uploads/", {"files": [_zip(_study_files(phantom_dir))]})
    job_id = r.json()["id"]
    first = tasks.import_upload.apply(kwargs={"job_id": job_id})
    snapshot = library_snapshot()
    second = tasks.import_upload.apply(kwargs={"job_id": job_id})
    assert (first.get(), second.get()) == ("succeeded", "skipped")
    assert library_snapshot() == snapshot and Case.objects.count() == 1
    job = ImportJob.objects.get(pk=job_id)
    assert job.status == "succeeded" and job.attempts == 1  # claimed once
    assert Instance.objects.count() == job.done


@pytest.mark.django_db
def test_a_delivery_while_a_live_worker_imports_waits_and_a_dead_ones_job_is_taken_over(
    coordinator, phantom_dir, django_capture_on_commit_callbacks, no_upload_leftovers
):
    with django_capture_on_commit_callbacks(execute=False):
        r = coordinator.post("/api/cases/uploads/", {"files": [_zip(_study_files(phantom_dir))]})
    job_id = r.json()["id"]
    # a worker claimed it and is alive (fresh heartbeat): this delivery leaves it alone
    job = ImportJob.claim(job_id)
    assert runner.import_upload(job_id=job_id) == runner.BUSY
    assert staging.names(job_id) == ["study.zip"] and Case.objects.count() == 0
    # that worker was killed mid-import: its heartbeat goes stale and the redelivery takes over
    stale = timezone.now() - runner.STALE_AFTER - timedelta(seconds=1)
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=stale)
    assert runner.import_upload(job_id=job_id) == "succeeded"
    job.refresh_from_db()
    assert job.status == "succeeded" and job.attempts == 2 and Case.objects.count() == 1


@pytest.mark.django_db
def test_a_job_cancelled_before_its_import_is_not_imported(
    coordinator, phantom_dir, django_capture_on_commit_callbacks, no_upload_leftovers
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        r = coordinator.post("/api/cases/uploads/", {"files": [_zip(_study_files(phantom_dir))]})
    ImportJob.objects.get(pk=r.json()["id"]).cancel()
    queued[0]()
    assert ImportJob.objects.get(pk=r.json()["id"]).status == "cancelled"
    assert Case.objects.count() == 0


@pytest.mark.django_db
def test_a_worker_that_cannot_see_the_files_fails_the_job_saying_so(coordinator):
    job = uploads.create_upload_job(user=coordinator.user)
    ImportJob.objects.filter(pk=job.pk).update(phase=ImportJob.Phase.RECEIVED, total=1, done=1)
    assert runner.import_upload(job_id=str(job.pk)) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and job.error_code == "upload_missing"
    assert "READERSTUDY_DATA_DIR" in job.error
    assert runner.import_upload(job_id=str(uuid.uuid4())) == "skipped"  # no such job


@pytest.mark.django_db(transaction=True)
def test_progress_beats_while_nothing_changes_and_sees_a_cancel():
    job = ImportJob.objects.create(source="upload", status=ImportJob.Status.RUNNING)
    with JobProgress(job.pk, interval=0.01, heartbeat=0.05) as progress:
        time.sleep(0.4)
        assert progress.writes >= 2  # heartbeats alone
        job.refresh_from_db()
        assert job.heartbeat_at is not None and job.phase == ""
        ImportJob.objects.filter(pk=job.pk).update(cancel_requested=True)
        deadline = time.monotonic() + 5
        while not progress.cancelled and time.monotonic() < deadline:
            time.sleep(0.02)
        with pytest.raises(JobCancelled):
            progress("validating", 1, 2)


# -- the page without JavaScript -------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_form_queues_the_upload_and_says_so(
    coordinator, phantom_dir, django_capture_on_commit_callbacks, no_upload_leftovers
):
    with (
        django_capture_on_commit_callbacks(execute=False) as queued,
        open(_study_files(phantom_dir)[0], "rb") as one,
    ):
        page = coordinator.post("/cases/", {"files": [one]}, follow=True).content.decode()
    assert "Upload received (1 file); it is being imported." in page
    assert len(queued) == 1
    queued[0]()
    job = ImportJob.objects.get()
    assert job.status == "failed" and job.error_code  # one slice is no series; it says why
    page = coordinator.get("/cases/").content.decode()
    assert f"[{job.errors[0]['code']}]" in page  # the recent imports table


def test_the_page_refuses_a_post_without_the_csrf_token(db, no_upload_leftovers):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    user = CoordinatorFactory()
    client.force_login(user)
    r = client.post("/cases/", {"files": [_named("a.dcm", b"x")]})
    assert r.status_code == 403
    assert ImportJob.objects.count() == 0


# -- the sweeper -------------------------------------------------------------------------------


def _folder(job_id, *, hours_old: float) -> Path:
    store = Path(settings.STORAGES["uploads"]["OPTIONS"]["location"])
    folder = store / str(job_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "000001").write_bytes(b"data")
    (folder / "manifest.json").write_text('{"names": ["a.dcm"]}')
    when = time.time() - hours_old * 3600
    for path in (*folder.iterdir(), folder):
        os.utime(path, (when, when))
    return folder


@pytest.mark.django_db
def test_the_sweeper_removes_what_ended_imports_and_killed_processes_leave(
    coordinator, no_upload_leftovers
):
    user = coordinator.user

    def job(status, phase, heartbeat_hours=None):
        beat = (
            None if heartbeat_hours is None else timezone.now() - timedelta(hours=heartbeat_hours)
        )
        return ImportJob.objects.create(
            source="upload", status=status, phase=phase, created_by=user, heartbeat_at=beat
        )

    ended = job("succeeded", "done")
    abandoned_queued = job("queued", "received")
    abandoned_running = job("running", "validating", heartbeat_hours=30)
    alive = job("running", "storing", heartbeat_hours=0)
    recent = job("queued", "received")
    folders = {
        "ended": _folder(ended.pk, hours_old=0),  # ended: removed whatever its age
        "abandoned_queued": _folder(abandoned_queued.pk, hours_old=30),
        "abandoned_running": _folder(abandoned_running.pk, hours_old=30),
        "alive": _folder(alive.pk, hours_old=30),  # its worker still beats
        "recent": _folder(recent.pk, hours_old=1),
        "orphan_old": _folder(uuid.uuid4(), hours_old=30),
        "orphan_new": _folder(uuid.uuid4(), hours_old=1),
    }
    temp = Path(settings.FILE_UPLOAD_TEMP_DIR)
    old_part, new_part = temp / f"{TEMP_PREFIX}old.part", temp / f"{TEMP_PREFIX}new.part"
    for path, hours in ((old_part, 30), (new_part, 1)):
        path.write_bytes(b"x")
        os.utime(path, (time.time() - hours * 3600,) * 2)

    out = io.StringIO()
    call_command("sweep_uploads", "--hours", "24", stdout=out)
    assert out.getvalue().strip() == (
        "removed 1 ended, 1 without a job, 2 abandoned, 1 staged request files; kept 3 in progress"
    )
    gone = {name for name, folder in folders.items() if not folder.exists()}
    assert gone == {"ended", "abandoned_queued", "abandoned_running", "orphan_old"}
    assert not old_part.exists() and new_part.exists()
    for abandoned in (abandoned_queued, abandoned_running):
        abandoned.refresh_from_db()
        assert (abandoned.status, abandoned.error_code) == ("failed", "upload_abandoned")
        assert abandoned.errors[0]["message"] == abandoned.error
    alive.refresh_from_db()
    recent.refresh_from_db()
    assert (alive.status, recent.status) == ("running", "queued")
    # the task runs the same sweep (for Celery beat); nothing old is left now
    assert tasks.sweep_uploads.apply(kwargs={"older_than_hours": 24}).get()["kept"] == 3
    with pytest.raises(ValueError, match="more than 0"):
        sweep_uploads(older_than_hours=0)
    # what is left is in progress; gone once those end (the test's own cleanup check)
    for folder in ("alive", "recent", "orphan_new"):
        staging.discard(folders[folder].name)
    new_part.unlink()
