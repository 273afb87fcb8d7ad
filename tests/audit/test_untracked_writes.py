"""Writes that bypass model signals (conditional UPDATEs, bulk writes), logouts and the
worker's actions still reach the audit trail: one test per kind."""

import pytest
from auditlog.context import set_actor
from celery.signals import task_postrun, task_prerun
from django.test import Client

from readerstudy.ai.tasks import run_inference
from readerstudy.audit.models import AuditEntry
from readerstudy.audit.worker import worker_actor
from readerstudy.cases.models import ImportJob
from readerstudy.cases.uploads import create_upload_job
from readerstudy.studies import editing
from readerstudy.studies.models import Design, Endpoint, StudyReader
from readerstudy.studies.selectors import question_specs
from tests.factories import PASSWORD, CoordinatorFactory, ModelVersionFactory, SeriesFactory

pytestmark = pytest.mark.django_db


def _statuses(job) -> list[list[str]]:
    entries = AuditEntry.objects.filter(object_pk=str(job.pk), changes__has_key="status")
    return [e.changes["status"] for e in entries.order_by("timestamp", "pk")]


def test_job_status_changes_made_by_conditional_updates_are_recorded():
    """Cancel, fail, re-queue and finish are single UPDATEs (race-safe); each is in the trail
    with the kind and actor a save() would have had."""
    boss = CoordinatorFactory()
    with set_actor(boss):
        job = create_upload_job(user=boss)
        job.cancel()  # queued -> cancelled
        assert job.requeue()  # cancelled -> queued
        claimed = ImportJob.claim(job.pk)  # queued -> running (a save)
        assert claimed is not None
        assert claimed.release()  # running -> queued
        claimed = ImportJob.claim(job.pk)
        assert claimed is not None and claimed.fail("broken", code="broken")  # running -> failed
        assert claimed.requeue()  # failed -> queued
    assert _statuses(job) == [
        [None, "queued"],
        ["queued", "cancelled"],
        ["cancelled", "queued"],
        ["queued", "running"],
        ["running", "queued"],
        ["queued", "running"],
        ["running", "failed"],
        ["failed", "queued"],
    ]
    edits = AuditEntry.objects.filter(object_pk=str(job.pk), kind="case_import.edit")
    assert edits.count() == 7 and {e.actor for e in edits} == {boss}
    # a refused transition writes nothing
    before = AuditEntry.objects.count()
    assert not ImportJob.objects.get(pk=job.pk).release()
    assert AuditEntry.objects.count() == before


def test_bulk_writes_of_endpoints_and_reader_arms_are_recorded(coordinator, make_study):
    study, readers = make_study(Design.CROSSOVER, n_readers=2, open_it=False)
    endpoint = Endpoint.objects.filter(study=study, question__isnull=False).first()
    assert endpoint is not None, "a new study has its preset's endpoints"
    assert AuditEntry.objects.filter(kind="endpoint.create", study=study).exists()
    # renaming a question moves its endpoints along (they were bulk UPDATEs before)
    specs = question_specs(study)
    spec = next(s for s in specs if s["code"] == endpoint.question.code)
    old = spec["code"]
    with set_actor(coordinator.user):
        editing.save_question(study, {**spec, "code": "renamed"}, replacing=old)
    endpoint.refresh_from_db()
    assert endpoint.question.code == "renamed"
    moved = AuditEntry.objects.filter(
        kind="endpoint.edit", study=study, object_pk=str(endpoint.pk), changes__has_key="question"
    )
    assert moved.exists() and moved.last().actor == coordinator.user
    # opening draws each reader's arm and order seed: one edit per reader
    from readerstudy.studies import services

    with set_actor(coordinator.user):
        services.open_study(study, truth_pending_allowed=True)
    arms = AuditEntry.objects.filter(kind="grant.reader_edit", study=study)
    assert {e.object_pk for e in arms} == {
        str(r.pk) for r in StudyReader.objects.filter(study=study)
    }
    for entry in arms:
        assert {"arm", "order_seed"} <= set(entry.changes)
        assert entry.changes["arm"][0] is None and entry.changes["arm"][1]


def test_a_logout_is_recorded_with_its_actor_and_address():
    user = CoordinatorFactory()
    client = Client(REMOTE_ADDR="10.7.7.7")
    assert client.login(username=user.username, password=PASSWORD)
    assert client.post("/accounts/logout/").status_code in (200, 302)
    entry = AuditEntry.objects.get(kind="logout")
    assert entry.actor == user and entry.remote_addr == "10.7.7.7"
    assert entry.object_pk == str(user.pk)
    # logging out again without a session records nothing more
    client.post("/accounts/logout/")
    assert AuditEntry.objects.filter(kind="logout").count() == 1


def test_what_a_worker_does_is_recorded_with_the_worker_as_actor():
    """Between Celery's task_prerun and task_postrun (a worker running a task), entries carry
    ``system/<task>/<job id>`` and the task id; outside them they do not."""
    boss = CoordinatorFactory()
    with set_actor(boss):
        from readerstudy.ai.services import request_inference

        job = request_inference(SeriesFactory().case, ModelVersionFactory(), user=boss)
    kwargs = {"job_id": str(job.pk)}
    task_prerun.send(
        sender=run_inference, task_id="task-1", task=run_inference, args=(), kwargs=kwargs
    )
    try:
        claimed = type(job).claim(job.pk)
        assert claimed is not None and claimed.fail("no weights", code="missing")
    finally:
        task_postrun.send(
            sender=run_inference, task_id="task-1", task=run_inference, args=(), kwargs=kwargs
        )
    entries = list(
        AuditEntry.objects.filter(object_pk=str(job.pk), kind="inference.edit").order_by("pk")
    )
    assert [e.changes["status"] for e in entries] == [["queued", "running"], ["running", "failed"]]
    actor = f"system/run_inference/{job.pk}"
    assert worker_actor(run_inference.name, kwargs) == actor
    for entry in entries:
        assert entry.actor is None and entry.actor_email == actor and entry.cid == "task-1"
    request = AuditEntry.objects.get(object_pk=str(job.pk), kind="inference.request")
    assert request.actor == boss and request.actor_email != actor
    # after the task: no worker actor any more
    job.requeue()
    last = AuditEntry.objects.filter(object_pk=str(job.pk)).order_by("pk").last()
    assert last.changes["status"] == ["failed", "queued"] and last.actor_email != actor
