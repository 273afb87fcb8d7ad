"""Import from a real Orthanc (Debian orthanc + orthanc-dicomweb) over DICOMweb."""

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command

from readerstudy.cases.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def orthanc(tmp_path):
    binary = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
    if not Path(binary).exists() or not PLUGIN.exists():
        pytest.fail("Debian orthanc and orthanc-dicomweb are required (make test installs them)")
    http, dicom = _free_port(), _free_port()
    config = {
        "Name": "readerstudy-test", "StorageDirectory": str(tmp_path / "db"),
        "IndexDirectory": str(tmp_path / "db"), "HttpPort": http, "DicomPort": dicom,
        "RemoteAccessAllowed": False, "AuthenticationEnabled": False,
        "Plugins": [str(PLUGIN)], "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }  # fmt: skip
    (tmp_path / "orthanc.json").write_text(json.dumps(config))
    proc = subprocess.Popen(
        [binary, str(tmp_path / "orthanc.json")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{http}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/system", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("Orthanc did not start")
    yield base
    proc.terminate()
    proc.wait(timeout=20)


def _upload(base: str, path: Path) -> None:
    request = urllib.request.Request(f"{base}/instances", data=path.read_bytes(), method="POST")
    request.add_header("Content-Type", "application/dicom")
    urllib.request.urlopen(request, timeout=10).read()


def test_import_from_orthanc_over_dicomweb(orthanc, phantom_dir, capsys):
    out, records = phantom_dir
    files = sorted((out / records[0]["case_id"]).glob("*.dcm"))
    for path in files:
        _upload(orthanc, path)
    call_command("import_from_pacs", "--url", f"{orthanc}/dicom-web", "--all-ct", "--no-progress")
    case = Case.objects.get()
    assert case.primary_series.num_slices == len(files)
    assert records[0]["study_instance_uid"] != case.primary_series.study_instance_uid
    assert "imported as" in capsys.readouterr().out
    # The same study again: recognised, not duplicated.
    call_command(
        "import_from_pacs",
        "--url",
        f"{orthanc}/dicom-web",
        "--study",
        records[0]["study_instance_uid"],
        "--no-progress",
    )
    assert Case.objects.count() == 1


def test_unreachable_pacs_is_a_clear_error(phantom_dir):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="PACS search failed|did not deliver"):
        call_command(
            "import_from_pacs", "--url", "http://127.0.0.1:1/dicom-web", "--all-ct", "--no-progress"
        )
    assert Case.objects.count() == 0
