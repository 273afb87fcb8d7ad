"""`rundemo` (the last step of `make demo`): web + a real worker, stopped cleanly by Ctrl-C."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _processes_with_env(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in environ:
            found.append(int(entry.name))
    return found


def test_rundemo_serves_login_runs_a_worker_and_stops_without_orphans(tmp_path):
    port = _free_port()
    data_dir = tmp_path / "demo-data"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "CELERY_", "READERSTUDY_", "DJANGO_", "TEST_"))
    }
    env.update(
        {
            "READERSTUDY_DATA_DIR": str(data_dir),
            "DJANGO_SETTINGS_MODULE": "readerstudy.settings.base",
        }
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    demo = subprocess.Popen(
        [*manage, "rundemo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:

        def login_page():
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/accounts/login/", timeout=2
                ) as r:
                    return r.status == 200 and b"Sign in" in r.read()
            except OSError:
                return False

        wait_for(login_page, timeout=60, message="the demo login page")
        check = subprocess.run(
            [*manage, "check_worker", "--timeout", "90"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stderr
        assert "ran probe" in check.stdout
        assert len(_processes_with_env(str(data_dir))) >= 3  # supervisor, gunicorn, celery
        demo.send_signal(signal.SIGINT)  # what Ctrl-C delivers
        output = demo.communicate(timeout=60)[0].decode()
        assert demo.returncode == 0, output
        assert "stopped web server and worker" in output
        time.sleep(0.5)
        assert _processes_with_env(str(data_dir)) == []
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
