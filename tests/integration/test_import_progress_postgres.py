"""Import progress on PostgreSQL: committed by its own connection while the import's
transaction is open, without making the import's rows visible early."""

import threading
import time

import pytest
from django.db import connection, transaction

from readerstudy.cases.models import Case, ImportJob
from readerstudy.cases.progress import JobProgress


@pytest.mark.django_db(transaction=True)
def test_progress_is_committed_while_the_importing_transaction_is_open():
    """PostgreSQL: the progress connection commits while the importer holds a transaction
    that has written rows; those rows stay invisible until it commits (all-or-nothing).
    (SQLite allows one writer at a time, so there progress waits for the short final insert.)"""
    assert connection.vendor == "postgresql"
    job = ImportJob.objects.create(source="upload", status=ImportJob.Status.RUNNING)
    written, release = threading.Event(), threading.Event()

    def importer():
        try:
            with transaction.atomic(), JobProgress(job.pk, interval=0.01) as progress:
                Case.objects.create(code="RS-INFLIGHT", source_key="k" * 64)
                progress("storing", 2, 5)
                written.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=importer)
    thread.start()
    try:
        assert written.wait(30)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            row = ImportJob.objects.get(pk=job.pk)
            if row.phase == "storing":
                break
            time.sleep(0.05)
        assert (row.phase, row.done, row.total) == ("storing", 2, 5)
        assert not Case.objects.filter(code="RS-INFLIGHT").exists()
    finally:
        release.set()
        thread.join(30)
