"""Check that a worker consumes tasks: enqueue a probe and wait for its result."""

import time

from django.core.management.base import BaseCommand, CommandError

from readerstudy.core.models import WorkerProbe
from readerstudy.core.services import request_worker_probe


class Command(BaseCommand):
    help = "Enqueue a worker probe and wait until a worker has run it."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=60.0)

    def handle(self, *args, timeout: float, **options):
        probe = request_worker_probe()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            probe.refresh_from_db()
            if probe.status == WorkerProbe.Status.FAILED:
                raise CommandError(f"probe {probe.pk} failed: {probe.error}")
            if probe.status == WorkerProbe.Status.SUCCEEDED:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"worker {probe.worker_host} (pid {probe.worker_pid}) ran probe {probe.pk}"
                    )
                )
                return
            time.sleep(0.5)
        raise CommandError(f"no worker ran probe {probe.pk} within {timeout:.0f} s")
