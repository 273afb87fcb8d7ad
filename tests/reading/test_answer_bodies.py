"""Answers that cannot be stored as sent are refused with a 400 naming the problem."""

import json

import pytest

from readerstudy.reading.models import AnswerRevision
from readerstudy.studies.models import Assignment, Design

pytestmark = pytest.mark.django_db

ANSWER = {"diagnosis": "cvst_ich", "confidence": 80}
BIGINT_MAX = 2**63 - 1


@pytest.fixture
def started(make_study, client):
    study, (reader, _) = make_study(Design.UNAIDED_ONLY, n_cases=1)
    assignment = Assignment.objects.get(study=study, reader__user=reader)
    client.force_login(reader)
    assert client.post(f"/api/reading/assignments/{assignment.pk}/start/").status_code == 200
    return client, assignment


def _draft(client, assignment, body):
    return client.put(
        f"/api/reading/assignments/{assignment.pk}/draft/",
        json.dumps(body),
        content_type="application/json",
    )


def _submit(client, assignment, body):
    return client.post(
        f"/api/reading/assignments/{assignment.pk}/submit/",
        json.dumps({"client_request_id": "r1", **body}),
        content_type="application/json",
    )


@pytest.mark.parametrize("active_ms", [2**63, 2**64 + 5, 10**30, -1, 1.5, "soon", [1]])
@pytest.mark.parametrize("send", [_draft, _submit])
def test_active_ms_out_of_its_column_range_is_refused(started, send, active_ms):
    client, assignment = started
    r = send(client, assignment, {"answers": ANSWER, "active_ms": active_ms})
    assert r.status_code == 400, r.content
    assert "active_ms" in r.json()
    assert not AnswerRevision.objects.filter(assignment=assignment).exists()


@pytest.mark.parametrize("send", [_draft, _submit])
def test_the_largest_active_ms_is_stored_as_sent(started, send):
    client, assignment = started
    r = send(client, assignment, {"answers": ANSWER, "active_ms": BIGINT_MAX})
    assert r.status_code in (200, 201), r.content
    assert AnswerRevision.objects.get(assignment=assignment).client_active_ms == BIGINT_MAX


@pytest.mark.parametrize(
    ("text", "problem"),
    [("\ud800", "surrogate"), ("fine \udfff", "surrogate"), ("a\u0000b", "NUL")],
)
@pytest.mark.parametrize("send", [_draft, _submit])
def test_unstorable_text_in_an_answer_is_refused(started, send, text, problem):
    client, assignment = started
    r = send(client, assignment, {"answers": {**ANSWER, "comment": text}})
    assert r.status_code == 400, r.content
    assert problem in r.json()["detail"]
    assert not AnswerRevision.objects.filter(assignment=assignment).exists()


@pytest.mark.parametrize("send", [_draft, _submit])
def test_unstorable_text_in_a_form_encoded_answer_is_refused(started, send):
    client, assignment = started
    url = f"/api/reading/assignments/{assignment.pk}/"
    url += "draft/" if send is _draft else "submit/"
    method = client.put if send is _draft else client.post
    from django.test.client import encode_multipart

    body = encode_multipart(
        "BoUnDaRy",
        {"answers.diagnosis": "cvst_ich", "answers.comment": "a\u0000b", "client_request_id": "r"},
    )
    r = method(url, body, content_type="multipart/form-data; boundary=BoUnDaRy")
    assert r.status_code == 400, r.content
    assert "NUL" in json.dumps(r.json())
    assert not AnswerRevision.objects.filter(assignment=assignment).exists()


def test_a_comment_with_ordinary_unicode_is_stored(started):
    client, assignment = started
    comment = "Sinus thrombosis ✓ — 日本語 😀"
    r = _submit(client, assignment, {"answers": {**ANSWER, "comment": comment}})
    assert r.status_code == 201, r.content
    assert AnswerRevision.objects.get(assignment=assignment).answers["comment"] == comment


@pytest.mark.parametrize("body", [[None, None], "answers", 5, None, {"answers": [ANSWER]}])
@pytest.mark.parametrize("send", [_draft, _submit])
def test_a_body_that_is_not_an_answer_object_is_refused(started, send, body):
    client, assignment = started
    url = f"/api/reading/assignments/{assignment.pk}/"
    url += "draft/" if send is _draft else "submit/"
    method = client.put if send is _draft else client.post
    r = method(url, json.dumps(body), content_type="application/json")
    assert r.status_code == 400, r.content
    assert not AnswerRevision.objects.filter(assignment=assignment).exists()


def test_the_worklist_filter_refuses_digits_int_cannot_read(started):
    client, _ = started
    r = client.get("/api/reading/assignments/", {"study": "²"})
    assert r.status_code == 400, r.content
    assert "study" in r.json()
