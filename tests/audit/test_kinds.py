"""One test per recorded kind of action: who, when, which object, which study, what changed."""

import pytest
from auditlog.context import set_actor
from django.test import Client

from readerstudy.ai.services import request_inference
from readerstudy.audit.models import AuditEntry
from readerstudy.cases.uploads import create_upload_job
from readerstudy.exports.services import request_analysis
from readerstudy.studies import services as study_services
from readerstudy.studies.models import AssistanceConfig, Design, Question
from tests.factories import (
    PASSWORD,
    CoordinatorFactory,
    ModelVersionFactory,
    ReaderFactory,
    SeriesFactory,
    StatisticianFactory,
)

from .conftest import csv_upload

pytestmark = pytest.mark.django_db


def _only(kind: str, **filters) -> AuditEntry:
    entries = list(AuditEntry.objects.filter(kind=kind, **filters))
    assert len(entries) == 1, [(e.kind, e.object_repr) for e in AuditEntry.objects.all()]
    return entries[0]


def test_a_login_and_a_failed_login_are_recorded_with_the_address():
    user = ReaderFactory()
    client = Client(REMOTE_ADDR="10.9.8.7")
    client.post("/accounts/login/", {"username": user.username, "password": "wrong"})
    client.post("/accounts/login/", {"username": "nobody", "password": "wrong"})
    assert client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    failed = list(AuditEntry.objects.filter(kind="login.failed").order_by("timestamp"))
    assert [e.additional_data["username"] for e in failed] == [user.username, "nobody"]
    assert failed[0].object_pk == str(user.pk) and failed[1].object_pk == ""
    assert all(e.actor is None and e.remote_addr == "10.9.8.7" for e in failed)
    login = _only("login")
    assert login.actor == user and login.remote_addr == "10.9.8.7"


def test_study_create_edit_open_and_close_are_recorded_with_actor_and_changes(coordinator):
    with set_actor(coordinator.user):
        study = study_services.create_study(
            title="Audited", design=Design.SEQUENTIAL_PER_CASE, randomization_seed=3
        )
        study.description = "now described"
        study.save()
        study_services.add_cases(study, [SeriesFactory().case for _ in range(2)])
        study_services.enroll_reader(study, ReaderFactory())
        study_services.configure_assistance(study, model_version=ModelVersionFactory())
        study_services.open_study(study, truth_pending_allowed=True)
    created = _only("study.create", study=study)
    assert created.actor == coordinator.user and created.changes["title"] == [None, "Audited"]
    edit = _only("study.edit", study=study, changes__has_key="description")
    assert edit.changes["description"] == ["", "now described"]
    assert _only("study.open", study=study).changes["status"] == ["draft", "open"]
    # closing through the study page: the actor and the address come from the request
    assert coordinator.post(f"/studies/{study.pk}/close/").status_code in (200, 302)
    closed = _only("study.close", study=study)
    assert closed.changes["status"] == ["open", "closed"]
    assert closed.actor == coordinator.user and closed.remote_addr == "10.1.2.3"


def test_grants_of_study_access_and_of_roles_are_recorded(coordinator, make_study):
    study, readers = make_study(Design.SEQUENTIAL_PER_CASE, n_readers=2)
    assert {e.object_repr for e in AuditEntry.objects.filter(kind="grant.reader", study=study)} == {
        f"{r} in {study}" for r in readers
    }
    coordinator.post(f"/studies/{study.pk}/grant/")
    grant = _only("grant.statistician_access", study=study)
    assert grant.changes["statistician_access"] == [False, True]
    assert grant.actor == coordinator.user
    user = StatisticianFactory()
    with set_actor(coordinator.user):
        user.role = "coordinator"
        user.save()
    role = _only("grant.role", object_pk=str(user.pk))
    assert role.changes["role"] == ["statistician", "coordinator"]


def test_question_and_assistance_changes_are_recorded_with_the_study(make_study):
    study, _ = make_study(Design.SEQUENTIAL_PER_CASE, open_it=False)
    question = Question.objects.filter(study=study).first()
    assert question is not None, "a new study has its default questions"
    assert AuditEntry.objects.filter(kind="question.create", study=study).exists()
    question.text = "Is there a haemorrhage?"
    question.save()
    edit = _only("question.edit", study=study)
    assert edit.changes["text"][1] == "Is there a haemorrhage?"
    config = AssistanceConfig.objects.get(study=study)
    assert _only("assistance.create", study=study).object_pk == str(config.pk)
    config.show_probability = False
    config.save()
    assert _only("assistance.edit", study=study, changes__has_key="show_probability").changes[
        "show_probability"
    ] == [True, False]


def test_label_imports_and_truth_edits_are_recorded(coordinator):
    cases = [SeriesFactory().case for _ in range(2)]
    text = f"case_code,label\n{cases[0].code},sich\n{cases[1].code},cvst_ich\n"
    assert coordinator.post("/api/cases/labels/", {"file": csv_upload(text)}).status_code == 200
    entry = _only("labels.import")
    assert entry.actor == coordinator.user and entry.additional_data["labels"] == "cases"
    assert "2" in entry.additional_data["summary"]
    r = coordinator.put(
        f"/api/cases/{cases[0].code}/truth/", {"label": "cvst_ich"}, content_type="application/json"
    )
    assert r.status_code == 200, r.content
    assert _only("truth.edit").additional_data == {"case": cases[0].code}


def test_case_imports_model_registration_and_inference_requests_are_recorded(coordinator):
    job = create_upload_job(user=coordinator.user)
    assert _only("case_import.request").object_pk == str(job.pk)
    with set_actor(coordinator.user):
        model = ModelVersionFactory()
        case = SeriesFactory().case
        inference = request_inference(case, model, user=coordinator.user)
    registered = _only("model.register")
    assert registered.object_pk == str(model.pk) and registered.actor == coordinator.user
    assert _only("inference.request").object_pk == str(inference.pk)


def test_exports_and_analysis_requests_are_recorded(finished_study):
    study, _, _ = finished_study
    boss = CoordinatorFactory()
    client = Client()
    client.force_login(boss)
    assert client.get(f"/api/exports/studies/{study.pk}/reads/csv/").status_code == 200
    assert client.get(f"/api/exports/studies/{study.pk}/consent/csv/").status_code == 200
    downloads = AuditEntry.objects.filter(kind="export.download", study=study)
    assert {e.additional_data["table"] for e in downloads} == {"reads", "consent"}
    assert {e.actor for e in downloads} == {boss}
    study_services.close_study(study)
    run = request_analysis(study, user=boss, with_truth=True, options={})
    assert _only("analysis.request", study=study).object_pk == str(run.pk)


def test_an_api_request_authenticated_by_the_view_records_its_actor(finished_study):
    """HTTP Basic authenticates inside the view, after the middleware: the actor is still set."""
    import base64

    study, _, _ = finished_study
    study_services.close_study(study)
    user = StatisticianFactory()
    token = base64.b64encode(f"{user.username}:{PASSWORD}".encode()).decode()
    client = Client(REMOTE_ADDR="10.4.4.4", HTTP_AUTHORIZATION=f"Basic {token}")
    response = client.post(
        f"/api/exports/studies/{study.pk}/analyses/", {}, content_type="application/json"
    )
    assert response.status_code == 202, response.content
    entry = _only("analysis.request", study=study)
    assert entry.actor == user and entry.remote_addr == "10.4.4.4"


def test_a_change_holds_concrete_fields_only(make_study):
    """No primary key or reverse relation (``assignments``) in the before/after."""
    study, readers = make_study(Design.SEQUENTIAL_PER_CASE, n_readers=1, open_it=False)
    grant = _only("grant.reader", study=study)
    fields = {"study", "user", "arm", "order_seed", "enrolled_at"}  # StudyReader's own columns
    assert {"study", "user", "enrolled_at"} <= set(grant.changes) <= fields
    assert "id" not in grant.changes and "assignments" not in grant.changes
    assert grant.changes["user"] == [None, readers[0].pk]
