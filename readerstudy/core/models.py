"""Platform-level records: worker self-test probes."""

import uuid

from django.db import models


class WorkerProbe(models.Model):
    """A round trip web -> broker -> worker -> database, used by `check_worker` and ops.

    The task that serves it is idempotent: however often the broker delivers it (for example
    after a worker was killed mid-task), ``completions`` ends at exactly 1, while
    ``attempts`` counts the deliveries that started work.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    duration_s = models.FloatField(default=0.0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    completions = models.PositiveIntegerField(default=0)
    worker_host = models.CharField(max_length=255, blank=True)
    worker_pid = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"probe {self.id} ({self.status})"
