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
