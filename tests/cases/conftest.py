from pathlib import Path

import pytest


@pytest.fixture
def phantom_dir(tmp_path):
    """Two small phantom studies (128x128) with labels and masks, written as DICOM files."""
    from phantoms import generate_dataset

    out = tmp_path / "phantoms"
    records = generate_dataset(out, 2, 11, matrix=128)
    return out, records


def storage_files(root) -> set[str]:
    return (
        {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
        if root.exists()
        else set()
    )


def library_snapshot():
    """Rows and stored files of the case library: equal before and after a refused import."""
    from django.conf import settings

    from readerstudy.cases.models import Case, Instance, Series

    media = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return (
        Case.objects.count(),
        Series.objects.count(),
        Instance.objects.count(),
        storage_files(media),
    )


def upload_leftovers() -> set[str]:
    """Files of uploads still kept anywhere: the upload storage and the requests' temp dir.

    Empty once every upload was imported or refused (the upload is not kept)."""
    from django.conf import settings

    uploads = Path(settings.STORAGES["uploads"]["OPTIONS"]["location"])
    temp = Path(settings.FILE_UPLOAD_TEMP_DIR)
    return {f"uploads/{name}" for name in storage_files(uploads)} | {
        f"tmp/{name}" for name in storage_files(temp)
    }


@pytest.fixture
def no_upload_leftovers():
    """Fails the test if an upload is kept after it (and starts from a clean slate)."""
    import shutil

    from django.conf import settings

    for folder in (
        settings.STORAGES["uploads"]["OPTIONS"]["location"],
        settings.FILE_UPLOAD_TEMP_DIR,
    ):
        shutil.rmtree(folder, ignore_errors=True)
    Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir(mode=0o700, parents=True, exist_ok=True)
    yield
    assert upload_leftovers() == set()


@pytest.fixture
def upload_now(django_capture_on_commit_callbacks):
    """POST an upload, then run its import (the task, eagerly, once the job is committed).

    Returns the answer (202 when the upload was taken) and the job's state afterwards."""

    def post(client, url: str, data: dict):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, data)
        if response.status_code != 202:
            return response, None
        return response, client.get(response["Location"]).json()

    return post


@pytest.fixture
def annotated(phantom_dir):
    """Phantom cases with three annotator masks each: (folder, records, cases, manifest rows)."""
    from .annotator_fixtures import annotated_cases

    out, records = phantom_dir
    cases, rows = annotated_cases(out, records)
    return out, records, cases, rows
