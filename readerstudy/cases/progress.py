"""Live progress of an import, written where pollers can see it while the import runs.

:class:`JobProgress` is the ``progress(phase, done, total)`` callable handed to the ingest
service. Calling it only records the latest state in memory (it never blocks and never
raises); a thread of its own writes that state to the job row on the thread's own database
connection, in autocommit mode, at most ``1 / interval`` times per second. So the counts are
committed, and visible to ``GET /api/cases/imports/<id>/``, whatever transaction the importing
connection has open, and the import's own writes stay all-or-nothing.

Progress is best effort: the writer waits at most ``LOCK_WAIT_MS`` for a lock (SQLite allows
one writer at a time, so it cannot write while the import's short row transaction is open;
PostgreSQL would wait for a row the import itself updated) and skips that update instead. It
only updates a job that is still running, so a late write never hides the final status, which
the importing connection writes after :meth:`JobProgress.close`. Only counts and a phase name
are written, never a file name or header value.
"""

import logging
import threading

from django.db import DatabaseError, connection
from django.utils import timezone

from .models import ImportJob

log = logging.getLogger(__name__)
LOCK_WAIT_MS = 200


class JobProgress:
    def __init__(self, job_id, *, interval: float = 0.25):
        self.job_id = job_id
        self.interval = interval
        self.writes = 0  # updates committed (for tests and logs)
        self._cond = threading.Condition()
        self._pending: tuple[str, int, int] | None = None
        self._closed = False
        self._thread = threading.Thread(
            target=self._run, name=f"import-progress-{job_id}", daemon=True
        )

    def __call__(self, phase: str, done: int, total: int) -> None:
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
                    self._cond.wait_for(lambda: self._pending is not None or self._closed)
                    if self._closed:
                        return
                    state, self._pending = self._pending, None
                self._write(*state)
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

    def _write(self, phase: str, done: int, total: int) -> None:
        try:
            updated = ImportJob.objects.filter(
                pk=self.job_id, status=ImportJob.Status.RUNNING
            ).update(phase=phase, done=done, total=total, updated_at=timezone.now())
        except DatabaseError as exc:  # locked: skip this one, the next state follows
            log.debug("import progress of %s not written: %s", self.job_id, type(exc).__name__)
            return
        self.writes += updated
