"""Exactly-once answers under real concurrency on PostgreSQL (threads, one connection each)."""

import threading

import pytest
from django.db import connection

from readerstudy.reading import services
from readerstudy.reading.models import AnswerRevision
from readerstudy.studies import services as study_services
from readerstudy.studies.errors import ProtocolConflict
from readerstudy.studies.models import Assignment, Design
from tests.factories import ReaderFactory, cases_with_series

pytestmark = pytest.mark.django_db(transaction=True)
ANSWER = {"diagnosis": "cvst_ich", "confidence": 70}


@pytest.fixture
def started_assignment():
    assert connection.vendor == "postgresql"
    study = study_services.create_study(title="c", design=Design.UNAIDED_ONLY, randomization_seed=9)
    study_services.add_cases(study, cases_with_series(1))
    reader = ReaderFactory()
    study_services.enroll_reader(study, reader)
    study_services.open_study(study, truth_pending_allowed=True)
    assignment = Assignment.objects.get(study=study)
    services.start(reader, assignment.pk)
    return reader, assignment


def _race(n, target):
    barrier = threading.Barrier(n)
    outcomes, errors = [], []

    def run(i):
        try:
            barrier.wait()
            outcomes.append(target(i))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes, errors


def test_same_request_id_from_many_threads_records_one_answer(started_assignment):
    reader, assignment = started_assignment
    outcomes, errors = _race(
        16,
        lambda i: services.submit(reader, assignment.pk, ANSWER, client_request_id="double-click"),
    )
    assert errors == []
    assert len(outcomes) == 16
    assert sum(result.created for result in outcomes) == 1
    assert len({result.revision.pk for result in outcomes}) == 1
    assert AnswerRevision.objects.filter(assignment=assignment).count() == 1


def test_concurrent_submit_and_lock_with_different_ids_lock_exactly_one(started_assignment):
    reader, assignment = started_assignment
    outcomes, errors = _race(
        12,
        lambda i: services.submit(
            reader,
            assignment.pk,
            {**ANSWER, "confidence": i},
            client_request_id=f"tab-{i}",
            lock=True,
        ),
    )
    assert len(outcomes) == 1
    assert len(errors) == 11
    assert all(isinstance(e, ProtocolConflict) and e.code == "locked" for e in errors)
    kinds = list(
        AnswerRevision.objects.filter(assignment=assignment).values_list("kind", flat=True)
    )
    assert kinds == ["submit", "lock"]
    assignment.refresh_from_db()
    assert assignment.state == Assignment.State.LOCKED
