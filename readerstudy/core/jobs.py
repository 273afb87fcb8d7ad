"""One lifecycle for every background job (imports, inference, analysis, worker probes).

A concrete job model inherits :class:`Job` and adds its own inputs and results. The status
machine is the same everywhere::

    queued -> running -> succeeded | failed | cancelled
    queued -> cancelled | failed
    running -> queued            (a worker gave the job back, or died and it is delivered again)
    failed | cancelled -> queued (requested again)

Web-side code creates, cancels and re-queues jobs; worker-side runners ``claim`` them, report
``progress`` (which also says whether a cancel was requested) and finish them with
``succeed`` / ``fail``. Every write is a single ``UPDATE ... WHERE status = ...`` or a
``select_for_update`` claim, so a message delivered twice runs the work once in effect, and
a result written after a cancel is refused.

Cancelling: a queued job is cancelled at once. A running job of a kind whose runner checks
``progress`` (``cancellable = True``) is asked to stop (``cancel_requested``); it ends
``cancelled`` at its next progress report, or when it tries to finish. A running job of
another kind cannot be cancelled (:class:`InvalidTransition`).

A runner stores its results in the same transaction as ``succeed`` and rolls them back when
``succeed`` returns False (the job was cancelled meanwhile)::

    job = MyJob.claim(pk)
    if job is None:
        return "skipped"
    try:
        job.progress("working", done=0, total=n)
        ...
        with transaction.atomic():
            store(results)
            if not job.succeed(summary=...):
                raise JobCancelled(job.pk)   # rolls the results back
    except JobCancelled:
        job.acknowledge_cancel()             # (that rollback also undid the cancelled state)
        return "cancelled"
    except Exception as exc:
        job.fail_from(exc)
        raise
"""

from __future__ import annotations

import logging
import socket
import uuid
from typing import Any, ClassVar, TypeVar

from auditlog import get_logentry_model
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.db import models, transaction
from django.utils import timezone

from .errors import DomainError

log = logging.getLogger(__name__)
ERROR_MESSAGE_MAX = 2000
ERROR_CODE_MAX = 64

J = TypeVar("J", bound="Job")


class JobCancelled(Exception):
    """Raised inside a runner when the job was cancelled (or finished elsewhere) while it ran."""


class InvalidTransition(DomainError, ValueError):
    """A status change the lifecycle does not allow (an API answers 409 with its message)."""

    status = 409

    def __init__(self, job: Job, target: str, reason: str = ""):
        kind = job._meta.verbose_name
        message = reason or f"a {job.status} {kind} cannot become {target}"
        super().__init__("invalid_transition", message)
        self.current, self.target = job.status, target


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})
ACTIVE = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})
TRANSITIONS: dict[str, frozenset[str]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED, JobStatus.FAILED}),
    JobStatus.RUNNING: frozenset(
        {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED}
    ),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset({JobStatus.QUEUED}),
    JobStatus.CANCELLED: frozenset({JobStatus.QUEUED}),
}


def may_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


class Job(models.Model):
    """Abstract base: status, claim, heartbeat, progress, error, timings, worker, versions."""

    Status = JobStatus
    #: whether a *running* job of this kind can be cancelled (its runner checks ``progress``)
    cancellable: ClassVar[bool] = True

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(
        max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    phase = models.CharField(max_length=32, blank=True, help_text="what a running job is doing")
    done = models.PositiveIntegerField(default=0, help_text="items of this phase done")
    total = models.PositiveIntegerField(default=0, help_text="items of this phase (0: unknown)")
    error_code = models.CharField(max_length=ERROR_CODE_MAX, blank=True)
    error = models.TextField(blank=True, help_text="error message, for people")
    attempts = models.PositiveIntegerField(default=0, help_text="deliveries that started work")
    cancel_requested = models.BooleanField(default=False)
    worker_host = models.CharField(max_length=255, blank=True)
    versions = models.JSONField(default=dict, blank=True, help_text="{library: version}")
    timings = models.JSONField(default=dict, blank=True, help_text="{step_s: seconds}")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    # --- reading ---------------------------------------------------------------------------

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def can_cancel(self) -> bool:
        """Whether :meth:`cancel` would act now (for buttons; the write re-checks)."""
        if self.status == JobStatus.QUEUED:
            return True
        return self.status == JobStatus.RUNNING and self.cancellable and not self.cancel_requested

    @property
    def percent(self) -> float | None:
        """Share of the current phase done, or None when the total is unknown."""
        if self.status == JobStatus.SUCCEEDED:
            return 100.0
        if not self.total:
            return None
        return round(100.0 * min(self.done, self.total) / self.total, 1)

    @property
    def elapsed_s(self) -> float | None:
        """Seconds from the (last) start to the end, or to now while it runs."""
        if self.started_at is None:
            return None
        end = self.finished_at or timezone.now()
        return round((end - self.started_at).total_seconds(), 3)

    # --- web side ----------------------------------------------------------------------------

    def requeue(self) -> bool:
        """A failed or cancelled job asked for again; True when it was re-queued.

        The caller enqueues its task (on commit) when this returns True.
        """
        values = self._touch(
            status=JobStatus.QUEUED,
            phase="",
            done=0,
            total=0,
            error="",
            error_code="",
            cancel_requested=False,
            timings={},
            started_at=None,
            heartbeat_at=None,
            finished_at=None,
        )
        before = None
        for status in (JobStatus.FAILED, JobStatus.CANCELLED):  # one UPDATE each: which it was
            if self._jobs(status=status).update(**values):
                before = status
                break
        self.refresh_from_db()
        if before is not None:
            self._audit_status(before, JobStatus.QUEUED)
        return before is not None

    def cancel(self: J) -> J:
        """A queued job never starts; a running one stops at its next progress report.

        Cancelling twice is fine. Raises :class:`InvalidTransition` for a finished job, and for
        a running job of a kind that cannot stop midway (``cancellable = False``).
        """
        now = timezone.now()
        if self._jobs(status=JobStatus.QUEUED).update(
            **self._touch(status=JobStatus.CANCELLED, cancel_requested=True, finished_at=now)
        ):
            self._audit_status(JobStatus.QUEUED, JobStatus.CANCELLED)
        if self.cancellable:
            self._jobs(status=JobStatus.RUNNING).update(**self._touch(cancel_requested=True))
        self.refresh_from_db()
        if self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
            raise InvalidTransition(self, JobStatus.CANCELLED)
        if self.status == JobStatus.RUNNING and not self.cancellable:
            raise InvalidTransition(
                self,
                JobStatus.CANCELLED,
                f"a running {self._meta.verbose_name} cannot be stopped; wait for it to finish",
            )
        return self

    # --- worker side -------------------------------------------------------------------------

    @classmethod
    def claim(cls: type[J], pk: Any, *, related: tuple[str, ...] = ()) -> J | None:
        """Take a job for this worker, or None when it is gone, finished or cancelled.

        A job already ``running`` is taken again: with late acknowledgement the broker delivers
        a message again when the worker that had it died (or its visibility timeout passed).
        ``attempts`` counts the deliveries that started work.
        """
        with transaction.atomic():
            qs = cls._default_manager.select_for_update(of=("self",) if related else ())
            job = qs.select_related(*related).filter(pk=pk).first()
            if job is None:
                log.warning("%s %s is gone; nothing to run", cls._meta.verbose_name, pk)
                return None
            if job.status not in ACTIVE:
                return None
            if job.cancel_requested:  # asked to stop before this delivery got it
                job._finish(JobStatus.CANCELLED)
                return None
            now = timezone.now()
            job.status = JobStatus.RUNNING
            job.attempts += 1
            job.started_at = now
            job.heartbeat_at = now
            job.worker_host = socket.gethostname()[:255]
            job.save(update_fields=job._touched_fields(
                "status", "attempts", "started_at", "heartbeat_at", "worker_host"
            ))  # fmt: skip
        return job

    def progress(
        self, phase: str | None = None, *, done: int | None = None, total: int | None = None
    ) -> None:
        """Record progress and the heartbeat; raise :class:`JobCancelled` when cancelled.

        One ``UPDATE`` that only matches a running job not asked to stop, so it never
        overwrites a final status written meanwhile. A job asked to stop ends ``cancelled``
        here. Call it with no arguments for a bare heartbeat and cancel check.
        """
        fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
        if phase is not None:
            fields["phase"] = phase
        if done is not None:
            fields["done"] = max(0, int(done))
        if total is not None:
            fields["total"] = max(0, int(total))
        running = self._jobs(status=JobStatus.RUNNING, cancel_requested=False)
        if not running.update(**self._touch(**fields)):
            self.acknowledge_cancel()
            raise JobCancelled(str(self.pk))
        for name, value in fields.items():
            setattr(self, name, value)

    def acknowledge_cancel(self) -> bool:
        """End a running job that was asked to stop as ``cancelled``; True when it is cancelled.

        :meth:`progress` does it before raising :class:`JobCancelled`; a runner calls it again
        where it caught that exception, because a transaction it rolled back also undid that.
        """
        if self._jobs(status=JobStatus.RUNNING, cancel_requested=True).exists():
            self._finish(JobStatus.CANCELLED)
        else:
            self.refresh_from_db()
        return self.status == JobStatus.CANCELLED

    def succeed(self, **fields: Any) -> bool:
        """Finish a running job with its result fields; False when it was cancelled meanwhile."""
        return self._finish(JobStatus.SUCCEEDED, **fields)

    def fail(self, message: str, *, code: str = "error", **fields: Any) -> bool:
        """Finish with an error code (stable, for programs) and a message (for people)."""
        return self._finish(
            JobStatus.FAILED,
            error=str(message)[:ERROR_MESSAGE_MAX],
            error_code=(code or "error")[:ERROR_CODE_MAX],
            **fields,
        )

    def fail_from(self, exc: BaseException, *, code: str | None = None) -> bool:
        """Fail with an exception: its class name is the code unless ``code`` is given."""
        name = type(exc).__name__
        return self.fail(f"{name}: {exc}", code=code or name)

    def release(self) -> bool:
        """Give a running job back to the queue (the worker is stopping mid-job).

        A job asked to stop ends ``cancelled`` instead. True when the job was running.
        """
        if self._jobs(status=JobStatus.RUNNING, cancel_requested=True).exists():
            return self._finish(JobStatus.CANCELLED)
        released = self._jobs(status=JobStatus.RUNNING).update(
            **self._touch(status=JobStatus.QUEUED)
        )
        self.refresh_from_db()
        if released:
            self._audit_status(JobStatus.RUNNING, JobStatus.QUEUED)
        return bool(released)

    # --- internals ---------------------------------------------------------------------------

    def _audit_status(self, before: str, after: str) -> None:
        """The entry django-auditlog writes on ``save()``, for a status set by ``UPDATE``.

        The conditional ``UPDATE`` keeps a twice-delivered message from running the work
        twice; it bypasses model signals, so a tracked job's status change is logged here
        through auditlog's own manager (actor and request id from its context, as a save's).
        """
        if before == after or not auditlog.contains(type(self)):
            return
        get_logentry_model().objects.log_create(
            self, action=LogEntry.Action.UPDATE, changes={"status": [str(before), str(after)]}
        )

    def _jobs(self, **conditions: Any) -> models.QuerySet:
        return type(self)._default_manager.filter(pk=self.pk, **conditions)

    @classmethod
    def _has_updated_at(cls) -> bool:
        return any(f.name == "updated_at" for f in cls._meta.concrete_fields)

    def _touch(self, **values: Any) -> dict[str, Any]:
        """The values of an ``UPDATE``, with ``updated_at`` where the model keeps one."""
        if self._has_updated_at():
            values.setdefault("updated_at", timezone.now())
        return values

    def _touched_fields(self, *names: str) -> list[str]:
        return [*names, "updated_at"] if self._has_updated_at() else list(names)

    def _finish(self, target: str, **fields: Any) -> bool:
        """Move to a terminal state; False when the job was finished or cancelled meanwhile.

        A running job whose cancel was requested ends ``cancelled`` whatever the runner
        reports (its result fields are dropped). Call it inside the caller's transaction to
        store results atomically with it.
        """
        allowed = {s for s in ACTIVE if may_transition(s, target)}
        requested = target
        with transaction.atomic():
            current = (
                type(self)
                ._default_manager.select_for_update()
                .only("status", "cancel_requested")
                .filter(pk=self.pk)
                .first()
            )
            if current is None or current.status not in allowed:
                if current is not None:
                    self.refresh_from_db()
                return False
            if current.cancel_requested and target != JobStatus.CANCELLED:
                target, fields = JobStatus.CANCELLED, {}
            now = timezone.now()
            values = self._touch(status=target, finished_at=now, heartbeat_at=now, **fields)
            if target == JobStatus.CANCELLED:
                values["cancel_requested"] = True
            self._jobs().update(**values)
            for name, value in values.items():
                setattr(self, name, value)
            self._audit_status(current.status, target)
        return target == requested
