"""Live progress of an import, written where pollers can see it while the import runs.

:class:`JobProgress` is the ``progress(phase, done, total)`` callable handed to the ingest
service. Calling it only records the latest state in memory (it never blocks); a thread of its
own writes that state to the job row on the thread's own database connection, in autocommit
mode, at most ``1 / interval`` times per second. So the counts are committed, and visible to
``GET /api/cases/imports/<id>/``, whatever transaction the importing connection has open, and
the import's own writes stay all-or-nothing. Each write also sets the job's ``heartbeat_at``,
and the thread writes the heartbeat alone every ``heartbeat`` seconds when nothing changed (a
long NIfTI write), so a second delivery of the task can tell that a live worker has the job
(:mod:`.runner`).

Progress is best effort: the writer waits at most ``LOCK_WAIT_MS`` for a lock (SQLite allows
one writer at a time, so it cannot write while the import's short row transaction is open;
PostgreSQL would wait for a row the import itself updated) and skips that update instead. It
only updates a job that is still running and not asked to stop, so a late write never hides
the final status, which the importing connection writes after :meth:`JobProgress.close`. When
the job was cancelled meanwhile, the next call raises :class:`~readerstudy.core.jobs.JobCancelled`
in the importing thread, which stops the import (nothing is stored). Only counts and a phase
name are written, never a file name or header value.
"""

import logging
import threading
from typing import Any

from django.db import DatabaseError, connection
from django.utils import timezone

from readerstudy.core.jobs import JobCancelled

from .models import ImportJob

log = logging.getLogger(__name__)
LOCK_WAIT_MS = 200
HEARTBEAT_S = 5.0


class JobProgress:
    def __init__(self, job_id, *, interval: float = 0.25, heartbeat: float = HEARTBEAT_S):
        self.job_id = job_id
        self.interval = interval
        self.heartbeat = heartbeat
        self.writes = 0  # updates committed (for tests and logs)
        self.cancelled = False  # the job was asked to stop (seen by the writer)
        self._cond = threading.Condition()
        self._pending: tuple[str, int, int] | None = None
        self._closed = False
        self._thread = threading.Thread(
            target=self._run, name=f"import-progress-{job_id}", daemon=True
        )

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.cancelled:
            raise JobCancelled(str(self.job_id))
        with self._cond:
            self._pending = (str(phase), int(done), int(total))
            self._cond.notify()

    def __enter__(self) -> "JobProgress":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self, timeout: float = 2.0) -> None:
        """Stop the writer; a state not written yet is dropped (the final write follows)."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    # -- the writer thread ----------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._limit_lock_waits()
            while True:
                with self._cond:
                    self._cond.wait_for(
                        lambda: self._pending is not None or self._closed, timeout=self.heartbeat
                    )
                    if self._closed:
                        return
                    state, self._pending = self._pending, None
                self._write(state)  # None: the heartbeat alone
                with self._cond:  # throttle: at most one write per interval
                    self._cond.wait_for(lambda: self._closed, timeout=self.interval)
        finally:
            connection.close()  # this thread's own connection

    def _limit_lock_waits(self) -> None:
        try:
            with connection.cursor() as cursor:
                if connection.vendor == "sqlite":
                    cursor.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_MS}")
                elif connection.vendor == "postgresql":
                    cursor.execute(f"SET lock_timeout = {LOCK_WAIT_MS}")
        except DatabaseError:
            log.debug("import progress: could not set the lock wait", exc_info=True)

    def _write(self, state: tuple[str, int, int] | None) -> None:
        now = timezone.now()
        fields: dict[str, Any] = {"heartbeat_at": now}
        if state is not None:
            phase, done, total = state
            fields.update(phase=phase, done=done, total=total, updated_at=now)
        running = ImportJob.objects.filter(pk=self.job_id, status=ImportJob.Status.RUNNING)
        try:
            updated = running.filter(cancel_requested=False).update(**fields)
            if not updated and running.filter(cancel_requested=True).exists():
                self.cancelled = True
        except DatabaseError as exc:  # locked: skip this one, the next state follows
            log.debug("import progress of %s not written: %s", self.job_id, type(exc).__name__)
            return
        self.writes += updated
