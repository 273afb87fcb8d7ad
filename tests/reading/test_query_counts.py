"""Round trips of the reader's write paths: pinned, so that a regression fails here.

Savepoint statements are left out of the service-level counts: on PostgreSQL the outermost
``atomic`` is BEGIN/COMMIT, under pytest's test transaction it is SAVEPOINT/RELEASE.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from readerstudy.reading import services
from readerstudy.studies import services as study_services
from readerstudy.studies.errors import ProtocolConflict, StudyError
from readerstudy.studies.models import Assignment, Design
from readerstudy.studies.questions import AnswerError
from readerstudy.studies.selectors import answer_validator, question_rows
from tests.factories import AdminFactory, make_inference_output

pytestmark = pytest.mark.django_db

ANSWER = {"diagnosis": "cvst_ich", "confidence": 80}


def _statements(ctx) -> list[str]:
    return [
        q["sql"]
        for q in ctx.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


@pytest.fixture
def started(make_study):
    study, (reader, _) = make_study(Design.UNAIDED_ONLY, n_cases=2)
    assignment = Assignment.objects.filter(study=study, reader__user=reader).order_by("position")[0]
    services.start(reader, assignment.pk)
    answer_validator(study)  # built once per process; every later request reuses it
    return study, reader, assignment


def test_submit_and_lock_is_four_statements(started):
    _, reader, assignment = started
    with CaptureQueriesContext(connection) as ctx:
        result = services.submit(reader, assignment.pk, ANSWER, client_request_id="r1", lock=True)
    statements = _statements(ctx)
    # lock the assignment; request id + last number; INSERT submit and lock rows; UPDATE state
    assert len(statements) <= 4, "\n".join(statements)
    assert result.created
    assert list(assignment.revisions.values_list("number", "kind")) == [(1, "submit"), (2, "lock")]
    assert all(r.server_time for r in assignment.revisions.all())
    assignment.refresh_from_db()
    assert assignment.state == Assignment.State.LOCKED
    assert assignment.submitted_at and assignment.locked_at


def test_duplicate_submit_is_two_statements_and_writes_nothing(started):
    _, reader, assignment = started
    services.save_draft(reader, assignment.pk, {"diagnosis": "sich"})
    first = services.submit(reader, assignment.pk, ANSWER, client_request_id="r1", lock=True)
    with CaptureQueriesContext(connection) as ctx:
        again = services.submit(reader, assignment.pk, ANSWER, client_request_id="r1", lock=True)
    statements = _statements(ctx)
    assert len(statements) <= 2, "\n".join(statements)
    assert not again.created and again.revision.pk == first.revision.pk
    assert list(assignment.revisions.values_list("number", "kind")) == [
        (1, "draft"), (2, "submit"), (3, "lock"),
    ]  # fmt: skip


def test_draft_is_three_statements(started):
    _, reader, assignment = started
    with CaptureQueriesContext(connection) as ctx:
        services.save_draft(reader, assignment.pk, {"diagnosis": "sich"}, active_ms=10)
    statements = _statements(ctx)
    assert len(statements) <= 3, "\n".join(statements)


def test_submit_request_query_budget(started, client):
    _, reader, assignment = started
    client.force_login(reader)
    url = f"/api/reading/assignments/{assignment.pk}/submit/"
    body = {"answers": ANSWER, "client_request_id": "r1", "lock": True, "active_ms": 5}
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(url, body, content_type="application/json")
    assert response.status_code == 201
    # the user (session from the cache) + the four statements of the submission
    assert len(_statements(ctx)) <= 5, "\n".join(_statements(ctx))
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(url, body, content_type="application/json")
    assert response.status_code == 200 and response.json()["created"] is False
    assert len(_statements(ctx)) <= 3, "\n".join(_statements(ctx))


def test_a_started_read_is_refused_once_the_study_closes(started):
    study, reader, assignment = started
    study_services.close_study(study)
    with pytest.raises(ProtocolConflict, match="not open"):
        services.submit(reader, assignment.pk, ANSWER, client_request_id="late")
    with pytest.raises(ProtocolConflict, match="not open"):
        services.save_draft(reader, assignment.pk, ANSWER)
    assert assignment.revisions.count() == 0


def test_cached_validator_still_rejects_bad_answers(started):
    _, reader, assignment = started
    with pytest.raises(StudyError, match="diagnosis: this question requires an answer"):
        services.submit(reader, assignment.pk, {"confidence": 5}, client_request_id="a")
    with pytest.raises(StudyError, match="unknown question"):
        services.save_draft(reader, assignment.pk, {"nope": 1})
    assert assignment.revisions.count() == 0


def test_draft_study_questions_are_not_cached(make_study):
    study, _ = make_study(Design.UNAIDED_ONLY, n_cases=1, open_it=False)
    answer_validator(study).validate({"diagnosis": "sich"}, complete=False)
    study_services.set_questions(
        study,
        [{"code": "grade", "type": "scale_5", "text": "Grade", "is_primary": False}],
    )
    with pytest.raises(AnswerError, match="unknown question"):
        answer_validator(study).validate({"diagnosis": "sich"}, complete=False)
    answer_validator(study).validate({"grade": 3}, complete=True)


def _request_statements(client, method, url) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(url)
    return response.status_code, _statements(ctx)


def test_reading_page_requests_query_budget(started, client):
    """What the reading page loads for a case, once the session's user is cached."""
    study, reader, assignment = started
    client.force_login(reader)
    base = f"/api/reading/assignments/{assignment.pk}"
    client.get("/api/reading/studies/")  # the first request of a session loads the user
    budgets = {
        f"/api/reading/studies/{study.pk}/next/": 1,  # the first unlocked read: nothing before
        f"{base}/": 1,  # assignment, case and series; questions are cached per frozen study
        f"{base}/revisions/": 2,  # ownership, then the rows (no joins for ordering)
        "/api/reading/studies/": 1,
    }
    for url, budget in budgets.items():
        client.get(url)  # builds the per-process caches
        status, statements = _request_statements(client, "get", url)
        assert status == 200, url
        assert len(statements) <= budget, f"{url}\n" + "\n".join(statements)
    _, statements = _request_statements(client, "get", f"{base}/revisions/")
    assert all(" JOIN " not in s for s in statements if "reading_answerrevision" in s)


def test_detail_questions_come_from_the_cache_and_match_the_study(started, client):
    study, reader, assignment = started
    client.force_login(reader)
    body = client.get(f"/api/reading/assignments/{assignment.pk}/").json()
    expected = list(study.questions.order_by("order", "id").values_list("code", flat=True))
    assert [q["code"] for q in body["questions"]] == expected
    assert set(body["questions"][0]) == {
        "code", "type", "text", "help_text", "options", "required", "order", "show_if", "config",
    }  # fmt: skip
    assert body["images"]["num_slices"] > 0


def test_start_and_assistance_request_query_budget(make_study, client):
    """Loading an unaided then an aided read: start answers the workspace, the aided view its
    model output; the protocol's facts come joined with the assignment, never queried."""
    study, (reader, _) = make_study(Design.SEQUENTIAL_PER_CASE, n_cases=2)
    first = Assignment.objects.filter(study=study, reader__user=reader).order_by("position")[0]
    aided = Assignment.objects.get(prerequisite=first)
    make_inference_output(aided.study_case.case, study.assistance.model_version)
    client.force_login(reader)
    client.get("/api/reading/studies/")  # the first request of a session loads the user
    question_rows(study)  # built once per process; every later request reuses it
    base = "/api/reading/assignments"
    # lock the assignment (with case and series); earlier reads unlocked?; UPDATE; revisions
    status, statements = _request_statements(client, "post", f"{base}/{first.pk}/start/")
    assert status == 200 and len(statements) <= 4, "\n".join(statements)
    services.submit(reader, first.pk, ANSWER, client_request_id="u", lock=True)
    # ... and the unaided read's lock row, to prefill the form
    status, statements = _request_statements(client, "post", f"{base}/{aided.pk}/start/")
    assert status == 200 and len(statements) <= 5, "\n".join(statements)
    # the assignment with its study's assistance and session; output; heatmaps; exposure
    # (looked up, then inserted on the first view and counted on the next)
    for _ in range(2):
        status, statements = _request_statements(client, "get", f"{base}/{aided.pk}/assistance/")
        assert status == 200 and len(statements) <= 5, "\n".join(statements)


def test_the_admin_cannot_change_the_questions_of_an_open_study(make_study, client):
    """What keeps the frozen-study cache (ADR 0004) true: past the draft, no question changes."""
    open_study, _ = make_study(Design.UNAIDED_ONLY, n_cases=1)
    draft, _ = make_study(Design.UNAIDED_ONLY, n_cases=1, open_it=False)
    client.force_login(AdminFactory())
    for study, editable in ((draft, True), (open_study, False)):
        question = study.questions.get(code="diagnosis")
        change = reverse("admin:studies_question_change", args=[question.pk])
        assert ('name="_save"' in client.get(change).content.decode()) is editable
        body = {"study": study.pk, "code": "renamed", "type": question.type, "text": "x"}
        if not editable:
            assert client.post(change, body).status_code == 403
            delete = reverse("admin:studies_question_delete", args=[question.pk])
            assert client.post(delete, {"post": "yes"}).status_code == 403
            assert study.questions.filter(code="diagnosis").exists()
