"""Schema-driven fuzzing: every operation of /api/schema/, as every role, answers below 500
with a body that matches the schema it declares for that status (its serializer).

Schemathesis reads the OpenAPI schema drf-spectacular serves and generates requests that fit
it (positive) and that break it (negative), sent to the Django WSGI application in-process.
Paths with ids are sent both with generated ids and with the ids of a small real world (an
open, a draft and a closed study, assignments, jobs), so requests reach real objects. The
examples are few, derandomized and not shrunk: the run is reproducible and takes seconds per
role.
"""

import base64
import copy
import itertools
import traceback

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from readerstudy.cases.uploads import create_upload_job
from readerstudy.core.services import request_worker_probe
from readerstudy.reading import services as reading
from readerstudy.studies import services as studies
from readerstudy.studies.models import Assignment, Design
from tests.factories import (
    PASSWORD,
    AdminFactory,
    CoordinatorFactory,
    ModelVersionFactory,
    ReaderFactory,
    StatisticianFactory,
    cases_with_series,
    make_inference_output,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES_PER_OPERATION = 6  # per generation mode and operation
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: report what was sent
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


@pytest.fixture
def wsgi_app():
    """The project's WSGI application, in the test's transaction.

    Django closes an obsolete database connection when a request starts and ends (here, one
    inside the test's transaction); the test client disconnects that handler while it runs a
    request, and so does this fixture for the whole test.
    """
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield WSGIHandler()
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def world(db):
    model = ModelVersionFactory()
    cases = cases_with_series(3)
    outputs = [make_inference_output(case, model) for case in cases]
    reader, other_reader = ReaderFactory(), ReaderFactory()
    coordinator = CoordinatorFactory()

    def study(design, title, *, washout_days=0):
        s = studies.create_study(
            title=title, design=design, randomization_seed=11, washout_days=washout_days
        )
        studies.add_cases(s, cases)
        for user in (reader, other_reader):
            studies.enroll_reader(s, user)
        studies.configure_assistance(s, model_version=model, heatmaps=["gradcampp", "ig"])
        return s

    open_study = studies.open_study(
        study(Design.SEQUENTIAL_PER_CASE, "open"), truth_pending_allowed=True
    )
    draft = study(Design.TWO_SESSIONS, "draft", washout_days=14)
    closed = studies.open_study(study(Design.UNAIDED_ONLY, "closed"), truth_pending_allowed=True)
    studies.grant_statistician_access(open_study, True)

    # The reader has locked the first unaided read of the open study and started its aided
    # read (its assistance is served), and has a locked read in the closed study.
    answer = {"diagnosis": "cvst_ich", "confidence": 70}
    mine = Assignment.objects.filter(reader__user=reader).order_by("position")
    unaided = mine.filter(study=open_study)[0]
    reading.start(reader, unaided.pk)
    reading.save_draft(reader, unaided.pk, {"diagnosis": "sich"}, active_ms=1200)
    reading.submit(reader, unaided.pk, answer, client_request_id="w1", lock=True)
    aided = Assignment.objects.get(prerequisite=unaided)
    reading.start(reader, aided.pk)
    done = mine.filter(study=closed)[0]
    reading.start(reader, done.pk)
    reading.submit(reader, done.pk, answer, client_request_id="w2", lock=True)
    studies.close_study(closed)
    others = Assignment.objects.filter(study=open_study, reader__user=other_reader)

    job = create_upload_job(user=coordinator, collection_name="fuzz")
    return {
        "users": {
            "reader": reader,
            "coordinator": coordinator,
            "statistician": StatisticianFactory(),
            "admin": AdminFactory(),
        },
        # path prefix -> parameter -> real values
        "ids": {
            "/api/studies/": {"id": [open_study.pk, draft.pk, closed.pk]},
            "/api/exports/studies/": {
                "id": [open_study.pk, closed.pk],
                "fmt": ["csv", "json", "parquet"],
            },
            "/api/reading/studies/": {"study_id": [open_study.pk, closed.pk]},
            "/api/reading/assignments/": {
                "id": [aided.pk, unaided.pk, done.pk, others.order_by("position")[0].pk],
                "method": ["gradcampp", "ig"],
            },
            "/api/cases/imports/": {"job_id": [str(job.pk)]},
            "/api/ai/jobs/": {"id": [str(outputs[0].job_id)]},
            "/api/ops/worker-probes/": {"id": [str(request_worker_probe().pk)]},
        },
    }


def _basic_auth(user) -> dict:
    token = base64.b64encode(f"{user.username}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _real_path_parameters(operation, ids: dict) -> list[dict]:
    """Combinations of real values for the operation's path parameters (at most a few)."""
    names = [p.name for p in operation.path_parameters]
    for prefix, values in ids.items():
        if operation.path.startswith(prefix) and names and set(names) <= set(values):
            combos = itertools.product(*(values[n] for n in names))
            return [dict(zip(names, combo)) for combo in itertools.islice(combos, 4)]
    return []


def _strategy(operation, mode: GenerationMode, ids: dict):
    strategies = [operation.as_strategy(generation_mode=mode)]
    strategies += [
        operation.as_strategy(generation_mode=mode, path_parameters=params)
        for params in _real_path_parameters(operation, ids)
    ]
    return st.one_of(strategies)


def _closed(schema: dict) -> dict:
    """The schema with every serializer's object closed (no undeclared keys), so a response
    with a key its serializer does not declare fails too."""
    for component in schema["components"]["schemas"].values():
        if "properties" in component:
            component.setdefault("additionalProperties", False)
    return schema


CHECKS = [not_a_server_error, response_schema_conformance]


def _failures(operation, strategy, headers: dict, tracebacks: list) -> list[str]:
    """The answers to generated requests that fail a check (a 5xx, or a body that does not match
    the schema declared for its status), each with what was sent and any traceback."""
    found: list[str] = []

    @FUZZ_SETTINGS
    @given(case=strategy)
    def run(case):
        tracebacks.clear()
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseExceptionGroup as failures:  # schemathesis' FailureGroup
            sent = f"{case.method} {case.formatted_path} query={case.query} body={case.body!r}"
            found.append(
                f"{operation.label}: {failures} ({response.status_code})\n"
                f"  sent: {sent[:600]}\n" + "".join(tracebacks)[-2000:]
            )

    run()
    return found


@pytest.mark.parametrize("role", ["reader", "coordinator", "statistician", "admin"])
def test_every_operation_answers_as_its_schema_declares(world, wsgi_app, settings, role):
    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    served = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app).raw_schema
    schema = schemathesis.openapi.from_dict(_closed(copy.deepcopy(served)))
    schema.app = wsgi_app
    headers = _basic_auth(world["users"][role])
    tracebacks: list[str] = []

    def record(sender, request=None, **kwargs):
        tracebacks.append(f"  {request.method} {request.path}\n{traceback.format_exc()}")

    got_request_exception.connect(record)
    failures: list[str] = []
    operations = 0
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            operations += 1
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategy = _strategy(operation, mode, world["ids"])
                failures += _failures(operation, strategy, headers, tracebacks)
    finally:
        got_request_exception.disconnect(record)
    assert operations >= 40
    assert not failures, f"{len(failures)} failure(s) as {role}:\n" + "\n".join(failures)
