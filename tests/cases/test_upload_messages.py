"""Upload answers: the uploader sees the names it sent beside hashed labels (never stored, and
the uploaded files are not kept), and a study already in the library is said to be so."""

import io
import zipfile

import pytest
from django.apps import apps
from django.core.serializers import serialize
from django.test import Client

from readerstudy.cases.models import Case, ImportJob
from tests.cases.conftest import upload_leftovers
from tests.factories import PASSWORD, CoordinatorFactory

pytestmark = pytest.mark.django_db(transaction=True)
SECRET_NAME = "Smith^Jane 1957-03-02 notes.txt"
SECRET_MEMBER = "PATIENT SMITH JANE/readme scan.txt"


@pytest.fixture
def coordinator():
    client = Client()
    user = CoordinatorFactory()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _study(phantom_dir, index=0) -> list:
    out, records = phantom_dir
    return sorted((out / records[index]["case_id"]).glob("*.dcm"))


def _named(name: str, data: bytes) -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = name
    return upload


def _every_row() -> str:
    text = "".join(serialize("json", m.objects.all()) for m in apps.get_models())
    return text.encode().decode("unicode_escape")


def _assert_never_stored(*names):
    stored = _every_row() + repr(list(ImportJob.objects.values_list("errors", flat=True)))
    for name in names:
        for part in (name, name.split("/")[0], "Smith"):
            assert part not in stored, part


def test_a_refused_upload_names_the_files_as_sent_to_the_uploader_only(coordinator):
    r = coordinator.post("/api/cases/uploads/", {"files": [_named(SECRET_NAME, b"not dicom")]})
    assert r.status_code == 202, r.content
    body = r.json()
    poll = coordinator.get(r["Location"]).json()  # the task ran when the job was committed
    assert poll["status"] == "failed"
    labels = [e["file"] for e in poll["errors"] if e.get("file")]
    assert labels and all(label.startswith("~") for label in labels)
    assert body["names"] == {labels[0]: SECRET_NAME}
    assert "names" not in poll and SECRET_NAME not in str(poll)
    _assert_never_stored(SECRET_NAME)
    assert upload_leftovers() == set()  # nor kept as a file


def test_files_left_out_of_a_zip_are_named_as_zipped(coordinator, phantom_dir):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for path in _study(phantom_dir):
            zf.write(path, f"study/{path.name}")
        zf.writestr(SECRET_MEMBER, "a note")
    job = coordinator.post("/api/cases/imports/", {}).json()
    r = coordinator.post(
        f"/api/cases/imports/{job['id']}/upload/",
        {"files": [_named("upload.zip", archive.getvalue())]},
    )
    assert r.status_code == 202, r.content
    poll = coordinator.get(r["Location"]).json()
    assert poll["status"] == "succeeded", poll
    left_out = [e for e in poll["errors"] if e.get("file", "").startswith("~")]
    assert left_out, poll["errors"]
    assert r.json()["names"] == {left_out[0]["file"]: SECRET_MEMBER}
    _assert_never_stored(SECRET_MEMBER)
    assert upload_leftovers() == set()


def test_safe_names_need_no_mapping(coordinator):
    r = coordinator.post("/api/cases/uploads/", {"files": [_named("IM0001.dcm", b"junk")]})
    assert r.status_code == 202 and "names" not in r.json()
    assert "IM0001.dcm" in str(coordinator.get(r["Location"]).json()["errors"])


def test_the_same_study_again_is_said_to_be_in_the_library_already(coordinator, phantom_dir):
    def upload():
        job = coordinator.post("/api/cases/imports/", {}).json()
        files = [_named(p.name, p.read_bytes()) for p in _study(phantom_dir)]
        answer = coordinator.post(f"/api/cases/imports/{job['id']}/upload/", {"files": files})
        assert answer.status_code == 202, answer.content
        return coordinator.get(f"/api/cases/imports/{job['id']}/").json()

    first = upload()
    assert first["status"] == "succeeded" and first["created"] is True
    again = upload()
    assert again["status"] == "succeeded" and again["cases"] == first["cases"]
    assert again["created"] is False
    assert Case.objects.count() == 1

    files = [open(p, "rb") for p in _study(phantom_dir)]  # noqa: SIM115
    try:
        page = coordinator.post("/cases/", {"files": files}, follow=True).content.decode()
    finally:
        for f in files:
            f.close()
    code = first["cases"][0]
    # the page's own upload, imported by the time the page showed (the task runs eagerly here)
    assert f"Case {code} was already in the library; nothing new was stored." in page
    assert f"Imported case {code}" not in page
    assert "(already in the library)" in page  # the recent imports table
