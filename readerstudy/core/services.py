"""Write paths for platform records (web side: the worker's part is in :mod:`.runner`)."""

from django.db import transaction

from .models import WorkerProbe
from .tasks import run_worker_probe


def request_worker_probe(*, duration_s: float = 0.0) -> WorkerProbe:
    """Create a probe and enqueue its task once the row is committed."""
    with transaction.atomic():
        probe = WorkerProbe.objects.create(duration_s=duration_s)
        transaction.on_commit(lambda: run_worker_probe.delay(probe_id=str(probe.pk)))
    return probe
