"""The job lifecycle (readerstudy.core.jobs.Job) on real job models.

``InferenceJob`` stands for the kinds whose running jobs can be cancelled (their runner checks
``progress``), ``WorkerProbe`` for those whose running jobs cannot. Everything here also runs
on PostgreSQL (``TEST_DATABASE_URL``); the race at the end needs it.
"""

import datetime as dt
import threading
import uuid

import pytest
from django.db import connection, transaction
from django.utils import timezone

from readerstudy.ai.models import InferenceJob
from readerstudy.cases.models import ImportJob
from readerstudy.core.jobs import (
    ERROR_CODE_MAX,
    ERROR_MESSAGE_MAX,
    TRANSITIONS,
    InvalidTransition,
    JobCancelled,
    JobStatus,
    may_transition,
)
from readerstudy.core.models import WorkerProbe
from readerstudy.exports.models import AnalysisRun
from tests.factories import ModelVersionFactory, SeriesFactory

pytestmark = pytest.mark.django_db
Q, R, S, F, C = (
    JobStatus.QUEUED,
    JobStatus.RUNNING,
    JobStatus.SUCCEEDED,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
)


def inference_job(**fields) -> InferenceJob:
    series = SeriesFactory()
    return InferenceJob.objects.create(
        case=series.case, series=series, model_version=ModelVersionFactory(),
        params={}, params_hash=uuid.uuid4().hex, **fields,
    )  # fmt: skip


def probe(**fields) -> WorkerProbe:
    return WorkerProbe.objects.create(**fields)


def fresh(job):
    return type(job).objects.get(pk=job.pk)


# --- the status machine --------------------------------------------------------------------


def test_the_transition_table():
    assert {
        Q: {R, C, F},
        R: {S, F, C, Q},
        S: set(),
        F: {Q},
        C: {Q},
    } == TRANSITIONS
    assert may_transition(Q, R) and not may_transition(S, C) and not may_transition("x", Q)


def _claim(job):
    return type(job).claim(job.pk) is not None


def _progress(job):
    job.progress("phase", done=1, total=2)
    return True


OPERATIONS = {
    "claim": _claim,
    "succeed": lambda job: job.succeed(),
    "fail": lambda job: job.fail("broke", code="broke"),
    "cancel": lambda job: job.cancel() is job,
    "requeue": lambda job: job.requeue(),
    "release": lambda job: job.release(),
    "progress": _progress,
}

# (start, operation) -> (what it returns or raises, the status after it); cancellable kind.
EXPECTED = {
    (Q, "claim"): (True, R), (Q, "succeed"): (False, Q), (Q, "fail"): (True, F),
    (Q, "cancel"): (True, C), (Q, "requeue"): (False, Q), (Q, "release"): (False, Q),
    (Q, "progress"): (JobCancelled, Q),
    (R, "claim"): (True, R), (R, "succeed"): (True, S), (R, "fail"): (True, F),
    (R, "cancel"): (True, R), (R, "requeue"): (False, R), (R, "release"): (True, Q),
    (R, "progress"): (True, R),
    (S, "claim"): (False, S), (S, "succeed"): (False, S), (S, "fail"): (False, S),
    (S, "cancel"): (InvalidTransition, S), (S, "requeue"): (False, S),
    (S, "release"): (False, S), (S, "progress"): (JobCancelled, S),
    (F, "claim"): (False, F), (F, "succeed"): (False, F), (F, "fail"): (False, F),
    (F, "cancel"): (InvalidTransition, F), (F, "requeue"): (True, Q),
    (F, "release"): (False, F), (F, "progress"): (JobCancelled, F),
    (C, "claim"): (False, C), (C, "succeed"): (False, C), (C, "fail"): (False, C),
    (C, "cancel"): (True, C), (C, "requeue"): (True, Q), (C, "release"): (False, C),
    (C, "progress"): (JobCancelled, C),
}  # fmt: skip


@pytest.mark.parametrize(("start", "operation"), sorted(EXPECTED))
def test_every_operation_from_every_status(start, operation):
    job = inference_job(status=start)
    expected, after = EXPECTED[start, operation]
    if isinstance(expected, type):
        with pytest.raises(expected):
            OPERATIONS[operation](job)
    else:
        assert OPERATIONS[operation](job) is expected
    assert fresh(job).status == after
    if after != start:
        assert may_transition(start, after)


def test_every_move_of_the_table_is_made_by_some_operation():
    made = {(start, after) for (start, _), (_, after) in EXPECTED.items() if start != after}
    # running -> cancelled is made by the runner's next progress report (tested below)
    allowed = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert made | {(R, C)} == allowed


def test_a_running_job_of_a_kind_that_cannot_stop_refuses_a_cancel():
    job = probe(status=R)
    with pytest.raises(InvalidTransition, match="cannot be stopped") as refused:
        job.cancel()
    assert refused.value.status == 409 and refused.value.code == "invalid_transition"
    job = fresh(job)
    assert (job.status, job.cancel_requested) == (R, False)
    assert job.succeed(completions=1)
    # ... while a queued one is cancelled as any other
    queued = probe()
    assert queued.can_cancel and queued.cancel().status == C
    assert WorkerProbe.claim(queued.pk) is None


def test_finished_jobs_refuse_a_cancel_with_a_clear_message():
    with pytest.raises(
        InvalidTransition, match="a succeeded inference job cannot become cancelled"
    ):
        inference_job(status=S).cancel()


# --- worker side: claim, double delivery, progress ---------------------------------------


def test_claim_records_the_worker_and_a_second_delivery_takes_the_job_again():
    job = inference_job()
    first = InferenceJob.claim(job.pk, related=("model_version", "series"))
    assert first.status == R and first.attempts == 1 and first.worker_host
    assert first.started_at and first.heartbeat_at
    assert first.model_version.model_id  # the related rows came with it
    # the broker delivers the message again (the worker died): the job runs again
    second = InferenceJob.claim(job.pk)
    assert second.attempts == 2 and second.status == R
    assert second.succeed(versions={"numpy": "2"})
    assert not first.succeed(versions={"numpy": "1"})  # the late one is refused
    assert fresh(job).versions == {"numpy": "2"}
    assert InferenceJob.claim(job.pk) is None  # delivered a third time: done already
    assert fresh(job).attempts == 2


def test_claiming_a_job_that_is_gone_is_nothing_to_do():
    assert WorkerProbe.claim(uuid.uuid4()) is None


def test_progress_records_phase_counts_and_heartbeat():
    job = InferenceJob.claim(inference_job().pk)
    before = fresh(job).heartbeat_at
    job.progress("predicting", done=15, total=100)
    stored = fresh(job)
    assert (stored.phase, stored.done, stored.total) == ("predicting", 15, 100)
    assert stored.heartbeat_at >= before and stored.percent == 15.0
    job.progress(done=40)  # the phase and total stay
    stored = fresh(job)
    assert (stored.phase, stored.done, stored.total) == ("predicting", 40, 100)
    job.progress()  # a bare heartbeat
    assert fresh(job).done == 40


def test_progress_touches_updated_at_where_the_model_keeps_one():
    job = ImportJob.objects.create(source="upload")
    job = ImportJob.claim(job.pk)
    long_ago = timezone.now() - dt.timedelta(days=1)
    ImportJob.objects.filter(pk=job.pk).update(updated_at=long_ago)
    job.progress("validating", done=1, total=3)
    assert fresh(job).updated_at > long_ago
    ImportJob.objects.filter(pk=job.pk).update(updated_at=long_ago)
    job.succeed()
    assert fresh(job).updated_at > long_ago


# --- cancelling ---------------------------------------------------------------------------


def test_a_job_cancelled_while_queued_never_runs():
    job = inference_job()
    assert job.can_cancel
    job.cancel()
    job.cancel()  # twice is fine
    assert (job.status, job.cancel_requested) == (C, True) and job.finished_at
    assert InferenceJob.claim(job.pk) is None
    assert fresh(job).attempts == 0


def test_a_job_cancelled_while_running_stops_at_its_next_progress_report():
    job = InferenceJob.claim(inference_job().pk)
    web_side = fresh(job)
    web_side.cancel()
    assert (web_side.status, web_side.cancel_requested) == (R, True)
    assert not web_side.can_cancel  # asked already
    with pytest.raises(JobCancelled):
        job.progress("saving", done=85)
    stored = fresh(job)
    assert stored.status == C and stored.finished_at and stored.phase != "saving"


def test_a_cancel_requested_before_the_worker_got_the_job_ends_it_on_claim():
    job = InferenceJob.claim(inference_job().pk)
    job.cancel()
    job.release()  # the worker stopped; the job was asked to stop: it ends cancelled
    assert fresh(job).status == C
    running = InferenceJob.claim(inference_job().pk)
    InferenceJob.objects.filter(pk=running.pk).update(cancel_requested=True)
    assert InferenceJob.claim(running.pk) is None  # redelivered after the cancel
    assert fresh(running).status == C


def test_succeed_after_a_cancel_is_refused_and_keeps_no_result():
    job = InferenceJob.claim(inference_job().pk)
    fresh(job).cancel()
    assert not job.succeed(done=100, total=100, versions={"numpy": "2"})
    stored = fresh(job)
    assert (stored.status, stored.versions, stored.done) == (C, {}, 0)
    assert job.status == C  # the instance says so too
    assert not job.fail("late")  # nor does a failure overwrite it
    assert fresh(job).error == ""


def test_a_failure_reported_after_a_cancel_request_ends_cancelled():
    job = InferenceJob.claim(inference_job().pk)
    fresh(job).cancel()
    assert not job.fail("stopped midway", code="boom")
    assert (fresh(job).status, fresh(job).error_code) == (C, "")


def test_results_stored_with_succeed_are_rolled_back_when_it_was_cancelled():
    run_job = InferenceJob.claim(inference_job().pk)
    other = probe()
    fresh(run_job).cancel()

    def store_and_succeed():
        with transaction.atomic():
            WorkerProbe.objects.filter(pk=other.pk).update(completions=7)  # "the results"
            if not run_job.succeed():
                raise JobCancelled(run_job.pk)

    with pytest.raises(JobCancelled):
        store_and_succeed()
    assert fresh(other).completions == 0
    assert fresh(run_job).status == R  # the rollback undid the cancelled state, too ...
    assert run_job.acknowledge_cancel()  # ... which the runner writes again
    assert fresh(run_job).status == C


# --- errors, requeue, release, timings ----------------------------------------------------


def test_errors_keep_a_code_and_a_bounded_message():
    job = InferenceJob.claim(inference_job().pk)
    assert job.fail("x" * 5000, code="c" * 200)
    stored = fresh(job)
    assert len(stored.error) == ERROR_MESSAGE_MAX and len(stored.error_code) == ERROR_CODE_MAX
    other = InferenceJob.claim(inference_job().pk)
    assert other.fail_from(KeyError("unknown model 'x'"))
    stored = fresh(other)
    assert stored.error_code == "KeyError" and stored.error == "KeyError: \"unknown model 'x'\""
    third = InferenceJob.claim(inference_job().pk)
    third.fail_from(ValueError("bad"), code="invalid_volume")
    assert fresh(third).error_code == "invalid_volume"


def test_requeue_starts_over_and_keeps_the_count_of_attempts():
    job = InferenceJob.claim(inference_job().pk)
    job.progress("predicting", done=50, total=100)
    job.fail("broke", code="broke", timings={"total_s": 1.0})
    assert job.requeue()
    assert (job.status, job.error, job.error_code, job.phase, job.done, job.total) == (
        Q, "", "", "", 0, 0,
    )  # fmt: skip
    assert job.timings == {} and job.started_at is None and job.finished_at is None
    assert job.attempts == 1
    assert not job.requeue()  # queued already


def test_release_gives_a_running_job_back_to_the_queue():
    job = InferenceJob.claim(inference_job().pk)
    assert job.release() and job.status == Q
    again = InferenceJob.claim(job.pk)
    assert again.attempts == 2


def test_reading_helpers():
    job = inference_job()
    assert job.is_active and not job.is_terminal and job.percent is None
    assert job.elapsed_s is None
    job = InferenceJob.claim(job.pk)
    job.progress(done=3, total=4)
    assert job.percent == 75.0 and job.elapsed_s >= 0
    job.succeed()
    assert job.is_terminal and job.percent == 100.0 and not job.can_cancel


@pytest.mark.parametrize("model", [ImportJob, InferenceJob, AnalysisRun, WorkerProbe])
def test_the_four_job_kinds_share_the_lifecycle_fields(model):
    names = {f.name for f in model._meta.get_fields()}
    assert names >= {
        "id", "status", "phase", "done", "total", "error_code", "error", "attempts",
        "cancel_requested", "worker_host", "versions", "timings", "created_at", "started_at",
        "heartbeat_at", "finished_at",
    }  # fmt: skip
    assert model.Status is JobStatus
    assert model._meta.get_field("status").default == Q


# --- PostgreSQL: two writers at once --------------------------------------------------------


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_only_one_of_two_concurrent_finishes_wins():
    assert connection.vendor == "postgresql"
    job = InferenceJob.claim(inference_job().pk)
    barrier = threading.Barrier(2)
    outcomes = []

    def finish(how):
        try:
            barrier.wait()
            other = InferenceJob.objects.get(pk=job.pk)
            if how == "succeed":
                outcomes.append((how, other.succeed()))
            else:
                try:
                    outcomes.append((how, other.cancel().status))
                except InvalidTransition:
                    outcomes.append((how, "refused"))
        finally:
            connection.close()

    threads = [threading.Thread(target=finish, args=(h,)) for h in ("succeed", "cancel")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    stored = fresh(job)
    results = dict(outcomes)
    assert len(results) == 2
    if results["succeed"]:  # the finish came first: the cancel is refused
        assert (stored.status, results["cancel"]) == (S, "refused")
    else:  # the cancel came first: the result was refused, the job ends cancelled
        assert (stored.status, results["cancel"]) == (C, R)
