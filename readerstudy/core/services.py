"""Write paths for platform records."""

import os
import socket
import time

from django.db import transaction
from django.utils import timezone

from .models import WorkerProbe


def request_worker_probe(*, duration_s: float = 0.0) -> WorkerProbe:
    """Create a probe and enqueue its task once the row is committed."""
    from .tasks import run_worker_probe

    with transaction.atomic():
        probe = WorkerProbe.objects.create(duration_s=duration_s)
        transaction.on_commit(lambda: run_worker_probe.delay(probe_id=str(probe.pk)))
    return probe


def execute_worker_probe(*, probe_id: str) -> str:
    """Run a probe exactly once, however many times its message is delivered."""
    with transaction.atomic():
        probe = WorkerProbe.objects.select_for_update().get(pk=probe_id)
        if probe.status == WorkerProbe.Status.DONE:
            return "already-done"
        probe.status = WorkerProbe.Status.RUNNING
        probe.attempts += 1
        probe.started_at = timezone.now()
        probe.worker_host = socket.gethostname()
        probe.worker_pid = os.getpid()
        probe.save(update_fields=["status", "attempts", "started_at", "worker_host", "worker_pid"])
    if probe.duration_s > 0:
        time.sleep(probe.duration_s)
    with transaction.atomic():
        probe = WorkerProbe.objects.select_for_update().get(pk=probe_id)
        if probe.status == WorkerProbe.Status.DONE:
            return "already-done"
        probe.status = WorkerProbe.Status.DONE
        probe.completions += 1
        probe.finished_at = timezone.now()
        probe.save(update_fields=["status", "completions", "finished_at"])
    return "done"
