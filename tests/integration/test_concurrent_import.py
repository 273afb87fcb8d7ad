"""One series imported by two worker processes at once ends as one case, one set of UIDs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from readerstudy.cases.models import Case, Instance, Series

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def test_two_processes_import_the_same_series(tmp_path, settings):
    from phantoms import generate_dataset

    assert connection.vendor == "postgresql"
    records = generate_dataset(tmp_path / "ph", 1, 21, matrix=128)
    folder = tmp_path / "ph" / records[0]["case_id"]
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "readerstudy.settings.base",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "READERSTUDY_DATA_DIR": str(Path(settings.MEDIA_ROOT).parent),
        "SECRET_KEY": settings.SECRET_KEY,
    }
    env["STORAGE_LOCATION"] = settings.STORAGES["default"]["OPTIONS"]["location"]
    procs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "import_cases", str(folder), "--no-progress"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert Case.objects.count() == 1
    series = Series.objects.get()
    assert Instance.objects.count() == series.num_slices
    assert (
        len({series.study_instance_uid, series.series_instance_uid, series.frame_of_reference_uid})
        == 3
    )
    uids = {
        (
            i.metadata["0020000D"]["Value"][0],
            i.metadata["0020000E"]["Value"][0],
            i.metadata["00200052"]["Value"][0],
        )
        for i in Instance.objects.all()
    }
    assert uids == {
        (series.study_instance_uid, series.series_instance_uid, series.frame_of_reference_uid)
    }
    joined = " ".join(outputs)
    assert "1 new" in joined and "1 already present" in joined
