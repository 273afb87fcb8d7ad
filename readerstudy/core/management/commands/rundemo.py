"""Run the demo: a gunicorn web server and one real Celery worker, stopped together.

Ctrl-C (SIGINT) or SIGTERM stops both process groups; the children also receive SIGTERM if
this supervisor dies, so no orphan processes are left behind.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: receive SIGTERM when the supervisor exits, however it exits."""
    os.setsid()
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Command(BaseCommand):
    help = "Serve the web app (gunicorn) and run one Celery worker until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument(
            "--queues", default="default,inference-cpu", help="queues the worker consumes"
        )

    def handle(self, *args, host: str, port: int, web_workers: int, queues: str, **options):
        env = os.environ.copy()
        env.setdefault("DJANGO_SETTINGS_MODULE", os.environ["DJANGO_SETTINGS_MODULE"])
        python = sys.executable
        commands = {
            "web": [
                python, "-m", "gunicorn", "readerstudy.wsgi:application",
                "--bind", f"{host}:{port}", "--workers", str(web_workers),
                "--timeout", "120", "--access-logfile", "-",
            ],
            "worker": [
                python, "-m", "celery", "-A", "readerstudy.celery", "worker",
                "--queues", queues, "--concurrency", "1", "--loglevel", "INFO",
                "--hostname", "demo-worker@%h",
            ],
        }  # fmt: skip
        children: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            for name, command in commands.items():
                children[name] = subprocess.Popen(command, env=env, preexec_fn=_die_with_parent)
            self.stdout.write(
                self.style.SUCCESS(
                    f"readerstudy is running at http://{host}:{port}/ "
                    f"(data in {settings.DATA_DIR}); press Ctrl-C to stop."
                )
            )
            while not stopping:
                for name, child in children.items():
                    if child.poll() is not None:
                        self.stderr.write(f"{name} exited with code {child.returncode}; stopping")
                        stopping = True
                time.sleep(0.5)
        finally:
            self._stop_all(children)
        self.stdout.write("stopped web server and worker")

    @staticmethod
    def _stop_all(children: dict[str, subprocess.Popen], grace_s: float = 15.0) -> None:
        for child in children.values():
            if child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for child in children.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            # The group may still hold pool processes: make sure none survive.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()
