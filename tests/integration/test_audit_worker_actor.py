"""A real worker process is the actor of the entries it writes (no user in a worker)."""

import pytest
import redis as redis_lib
from auditlog.context import set_actor

from readerstudy.ai.models import InferenceJob
from readerstudy.ai.services import request_inference
from readerstudy.audit.models import AuditEntry
from tests.conftest import wait_for
from tests.factories import CoordinatorFactory, ModelVersionFactory, SeriesFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_worker_is_the_actor_of_the_job_status_it_writes(worker_factory, settings):
    redis_lib.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    worker_factory(name="audit-actor")
    boss = CoordinatorFactory()
    with set_actor(boss):  # the request, as a coordinator's page would make it
        job = request_inference(SeriesFactory().case, ModelVersionFactory(), user=boss)

    def finished():
        return InferenceJob.objects.get(pk=job.pk).is_terminal

    wait_for(finished, timeout=120, message="the worker to finish the inference job")
    request = AuditEntry.objects.get(object_pk=str(job.pk), kind="inference.request")
    assert request.actor == boss
    edits = list(
        AuditEntry.objects.filter(object_pk=str(job.pk), kind="inference.edit").order_by("pk")
    )
    assert edits, "the worker's status changes are in the trail"
    statuses = [e.changes["status"] for e in edits]
    assert ["queued", "running"] in statuses and statuses[-1][1] in ("failed", "succeeded")
    for entry in edits:
        assert entry.actor is None
        assert entry.actor_email == f"system/run_inference/{job.pk}"
        assert entry.cid  # the Celery task id
