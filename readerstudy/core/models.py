"""Platform-level records: worker self-test probes."""

from typing import ClassVar

from django.db import models

from .jobs import Job, JobStatus


class WorkerProbe(Job):
    """A round trip web -> broker -> worker -> database, used by `check_worker` and ops.

    The task that serves it is idempotent: however often the broker delivers it (for example
    after a worker was killed mid-task), ``completions`` ends at exactly 1, while
    ``attempts`` counts the deliveries that started work. ``duration_s`` is how long the
    worker sleeps (an input); :attr:`elapsed_s` is how long the probe took.
    """

    #: a probe only sleeps: a running one cannot be stopped, a queued one can be cancelled
    cancellable: ClassVar[bool] = False

    Status = JobStatus

    duration_s = models.FloatField(default=0.0, help_text="how long the worker sleeps")
    completions = models.PositiveIntegerField(default=0)
    worker_pid = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"probe {self.id} ({self.status})"
