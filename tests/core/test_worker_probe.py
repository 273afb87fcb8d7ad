import pytest

from readerstudy.core.models import WorkerProbe
from readerstudy.core.runner import execute_worker_probe
from readerstudy.core.services import request_worker_probe
from tests.factories import PASSWORD, AdminFactory, CoordinatorFactory, ReaderFactory

pytestmark = pytest.mark.django_db


def test_probe_runs_once_even_if_delivered_twice(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        probe = request_worker_probe()
    assert len(callbacks) == 1  # enqueued only after commit
    probe.refresh_from_db()
    assert probe.status == WorkerProbe.Status.SUCCEEDED
    assert execute_worker_probe(probe_id=str(probe.pk)) == "already-done"
    probe.refresh_from_db()
    assert (probe.attempts, probe.completions) == (1, 1)


@pytest.mark.parametrize(
    ("factory", "expected"),
    [(None, 403), (ReaderFactory, 403), (CoordinatorFactory, 403), (AdminFactory, 201)],
)
def test_only_admins_may_enqueue_probes(client, factory, expected):
    if factory is not None:
        user = factory()
        client.login(username=user.username, password=PASSWORD)
    response = client.post(
        "/api/ops/worker-probes/", {"duration_s": 0}, content_type="application/json"
    )
    assert response.status_code == expected
    assert WorkerProbe.objects.count() == (1 if expected == 201 else 0)


def test_probe_duration_is_bounded(client):
    admin = AdminFactory()
    client.login(username=admin.username, password=PASSWORD)
    response = client.post(
        "/api/ops/worker-probes/", {"duration_s": 10_000}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "duration_s" in response.json()
