"""The crafted-input corpus (``crafted.py``) through every way in: the one-call upload API,
the two-step job API (both answer 202; the job then imports, or fails naming the problem) and
``import_cases`` (exit 2, one line, when refused). A refusal stores nothing."""

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from readerstudy.cases.dicom import prepare_upload
from readerstudy.cases.models import Case, Collection, ImportJob, Instance
from tests.cases import crafted
from tests.cases.conftest import library_snapshot
from tests.factories import PASSWORD, CoordinatorFactory

pytestmark = pytest.mark.django_db
VARIANTS = sorted(crafted.VARIANTS)
SECRET = b"test-site-secret-0123456789abcdef"


@pytest.fixture
def coordinator(client):
    user = CoordinatorFactory()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _files(c: crafted.Crafted) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(name, data) for name, data in c.files]


def _state():
    return library_snapshot(), Collection.objects.count()


def _assert_named(c: crafted.Crafted, errors: list[dict]) -> None:
    codes = [e["code"] for e in errors]
    assert c.code in codes, codes
    assert "internal_error" not in codes
    text = " ".join(e["message"] for e in errors)
    for word in c.words:
        assert word in text, (word, text)


def _assert_imported(collection: str) -> None:
    case = Case.objects.get()
    assert case.collection.name == collection
    # one stored encoding: explicit VR little endian, whatever came in
    syntaxes = set(Instance.objects.values_list("transfer_syntax_uid", flat=True))
    assert syntaxes == {pydicom.uid.ExplicitVRLittleEndian}
    assert len(case.scanner) <= Case._meta.get_field("scanner").max_length


@pytest.mark.parametrize("name", VARIANTS)
def test_one_call_upload_api(name, tmp_path, coordinator, upload_now):
    c = crafted.build(name, tmp_path)
    before = _state()
    response, state = upload_now(
        coordinator, "/api/cases/uploads/", {"files": _files(c), "collection": f"crafted {name}"}
    )
    assert response.status_code == 202, response.content  # taken; a worker imports it
    if c.code is None:
        assert state["status"] == "succeeded", state
        _assert_imported(f"crafted {name}")
        return
    assert state["status"] == "failed" and state["error_code"] and state["error"]
    _assert_named(c, state["errors"])
    assert _state() == before  # no rows, no files, no collection
    job = ImportJob.objects.get()
    assert job.status == "failed" and job.collection is None
    _assert_named(c, job.errors)


@pytest.mark.parametrize("name", VARIANTS)
def test_two_step_job_api(name, tmp_path, coordinator, upload_now):
    c = crafted.build(name, tmp_path)
    before = _state()  # before the job: naming a collection must not create it yet
    job_id = coordinator.post("/api/cases/imports/", {"collection": f"two-step {name}"}).json()[
        "id"
    ]
    response, state = upload_now(
        coordinator, f"/api/cases/imports/{job_id}/upload/", {"files": _files(c)}
    )
    assert response.status_code == 202, response.content
    if c.code is None:
        assert state["status"] == "succeeded" and len(state["cases"]) == 1
        _assert_imported(f"two-step {name}")
        return
    assert state["status"] == "failed"
    _assert_named(c, state["errors"])
    assert _state() == before


@pytest.mark.parametrize("name", VARIANTS)
def test_import_cases_command(name, tmp_path):
    c = crafted.build(name, tmp_path / "build")
    if c.is_zip:
        target = tmp_path / "in" / c.files[0][0]
        target.parent.mkdir(parents=True)
        target.write_bytes(c.files[0][1])
    else:
        target = tmp_path / "in" / "study"
        target.mkdir(parents=True)
        for file_name, data in c.files:
            (target / file_name).write_bytes(data)
    before = _state()
    out, err = io.StringIO(), io.StringIO()
    args = ("import_cases", str(target), "--no-progress", "--collection", f"cli {name}")
    if c.code is None:
        call_command(*args, stdout=out, stderr=err)
        assert "imported 1 new" in out.getvalue()
        _assert_imported(f"cli {name}")
        return
    with pytest.raises(CommandError) as refused:
        call_command(*args, stdout=out, stderr=err)
    message = str(refused.value)
    assert refused.value.returncode == 2
    assert "\n" not in message and f"[{c.code}]" in message, message
    assert "Traceback" not in err.getvalue()
    assert _state() == before


@pytest.mark.parametrize("name", ["deflated_explicit_little", "explicit_big_endian"])
def test_other_encodings_give_the_same_volume_as_little_endian(name, tmp_path):
    seed = crafted.VARIANTS[name][0]
    plain = crafted.phantom_files(Path(tmp_path), seed)
    encoded = crafted.build(name, tmp_path / "encoded").files
    volumes = []
    for files in (plain, encoded):
        prepared = prepare_upload(files, pseudonym_for=lambda key: "P-1", secret=SECRET)
        assert prepared.ok, prepared.errors
        volumes.append(prepared.primary.volume)
    assert volumes[0].shape == volumes[1].shape
    assert np.array_equal(volumes[0], volumes[1])
