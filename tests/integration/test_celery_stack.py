"""The real stack: web process -> Redis -> separate worker processes -> PostgreSQL."""

import os
import signal

import pytest

from readerstudy.core.models import WorkerProbe
from tests.conftest import wait_for
from tests.factories import PASSWORD, AdminFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_queue")]


def _probe(pk) -> WorkerProbe:
    return WorkerProbe.objects.get(pk=pk)


def test_task_enqueued_by_web_runs_in_worker_and_lands_in_postgres(live_server, worker_factory):
    import requests

    admin = AdminFactory()
    worker = worker_factory(name="roundtrip")
    session = requests.Session()
    session.auth = (admin.username, PASSWORD)
    response = session.post(f"{live_server.url}/api/ops/worker-probes/", json={"duration_s": 0})
    assert response.status_code == 201, response.text
    probe_id = response.json()["id"]

    def done():
        body = session.get(f"{live_server.url}/api/ops/worker-probes/{probe_id}/").json()
        return body if body["status"] == "succeeded" else None

    body = wait_for(done, timeout=60, message="the worker to run the probe")
    assert body["completions"] == 1
    assert body["worker_pid"] != os.getpid()
    assert body["worker_pid"] != worker.pid  # ran in the worker's pool process
    # The task result is recorded in the database by the result backend.
    from django_celery_results.models import TaskResult

    result = wait_for(
        lambda: TaskResult.objects.filter(
            task_name="readerstudy.core.tasks.run_worker_probe"
        ).first(),
        timeout=20,
        message="the task result row",
    )
    assert result.status == "SUCCESS"
    assert '"done"' in result.result


def test_worker_killed_mid_task_is_redelivered_and_completes_exactly_once(worker_factory):
    from readerstudy.core.services import request_worker_probe

    first = worker_factory(name="victim", visibility_timeout=3)
    probe = request_worker_probe(duration_s=8.0)
    wait_for(
        lambda: _probe(probe.pk).status == WorkerProbe.Status.RUNNING,
        timeout=60,
        message="the first worker to start the task",
    )
    os.killpg(first.pid, signal.SIGKILL)  # the whole worker: main process and pool child
    first.wait()
    assert _probe(probe.pk).status == WorkerProbe.Status.RUNNING
    assert _probe(probe.pk).completions == 0

    worker_factory(name="rescuer", visibility_timeout=3)
    wait_for(
        lambda: _probe(probe.pk).status == WorkerProbe.Status.SUCCEEDED,
        timeout=90,
        message="the redelivered task to complete",
    )
    final = _probe(probe.pk)
    assert final.completions == 1
    assert final.attempts == 2  # delivered twice, completed once
