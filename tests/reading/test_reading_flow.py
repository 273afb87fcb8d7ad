from datetime import timedelta

import pytest
from django.utils import timezone

from readerstudy.reading import services
from readerstudy.reading.assistance import assistance_payload
from readerstudy.reading.models import AnswerRevision
from readerstudy.reading.selectors import next_assignment
from readerstudy.studies.errors import NotAvailable, ProtocolConflict, StudyError
from readerstudy.studies.models import Assignment, Design
from tests.factories import make_inference_output

pytestmark = pytest.mark.django_db

ANSWER = {"diagnosis": "cvst_ich", "confidence": 80, "signs": ["cord_sign"]}


def _first(study, user, **filters):
    return Assignment.objects.filter(study=study, reader__user=user, **filters).order_by(
        "session__index", "position"
    )[0]


def test_full_sequential_case_unaided_lock_then_aided(make_study):
    study, (reader, _) = make_study(Design.SEQUENTIAL_PER_CASE, n_cases=2)
    unaided = _first(study, reader)
    aided = Assignment.objects.get(prerequisite=unaided)
    with pytest.raises(ProtocolConflict, match="lock the previous read"):
        services.start(reader, aided.pk)
    services.start(reader, unaided.pk)
    services.save_draft(reader, unaided.pk, {"diagnosis": "sich"}, active_ms=1000)
    services.submit(reader, unaided.pk, ANSWER, client_request_id="r1", active_ms=4000, lock=True)
    unaided.refresh_from_db()
    assert unaided.state == Assignment.State.LOCKED
    nxt, reason = next_assignment(reader, study.pk)
    assert (nxt.pk, reason) == (aided.pk, None)
    services.start(reader, aided.pk)
    # An aided answer is refused until the model output has been shown for this read.
    with pytest.raises(ProtocolConflict, match="model output has not been shown"):
        services.submit(reader, aided.pk, {**ANSWER, "confidence": 95}, client_request_id="r2")
    assert aided.revisions.count() == 0
    make_inference_output(aided.study_case.case, study.assistance.model_version)
    assistance_payload(reader, aided.pk, url_for=lambda *args: "/x")
    services.submit(reader, aided.pk, {**ANSWER, "confidence": 95}, client_request_id="r2")
    services.lock(reader, aided.pk)
    kinds = list(unaided.revisions.values_list("kind", flat=True))
    assert kinds == ["draft", "submit", "lock"]
    assert list(aided.revisions.values_list("kind", flat=True)) == ["submit", "lock"]


def test_revisions_are_append_only_and_the_lock_copies_the_last_submission(make_study):
    study, (reader, _) = make_study(Design.UNAIDED_ONLY, n_cases=1)
    a = _first(study, reader)
    services.start(reader, a.pk)
    services.submit(reader, a.pk, {**ANSWER, "confidence": 10}, client_request_id="x1")
    services.submit(reader, a.pk, {**ANSWER, "confidence": 60}, client_request_id="x2")
    final = services.lock(reader, a.pk)
    revisions = list(a.revisions.order_by("number"))
    assert [r.number for r in revisions] == [1, 2, 3]
    assert [r.answers["confidence"] for r in revisions] == [10, 60, 60]
    assert final.kind == AnswerRevision.Kind.LOCK
    with pytest.raises(ProtocolConflict, match="locked"):
        services.submit(reader, a.pk, ANSWER, client_request_id="x3")
    with pytest.raises(ProtocolConflict, match="locked"):
        services.save_draft(reader, a.pk, ANSWER)
    assert a.revisions.count() == 3


def test_repeated_request_id_records_one_answer(make_study):
    study, (reader, _) = make_study(Design.UNAIDED_ONLY, n_cases=1)
    a = _first(study, reader)
    services.start(reader, a.pk)
    first = services.submit(reader, a.pk, ANSWER, client_request_id="same")
    again = services.submit(reader, a.pk, ANSWER, client_request_id="same")
    assert first.created and not again.created
    assert first.revision.pk == again.revision.pk
    with pytest.raises(ProtocolConflict, match="different answer"):
        services.submit(reader, a.pk, {**ANSWER, "confidence": 1}, client_request_id="same")
    assert a.revisions.count() == 1


def test_answers_are_validated_against_the_question_schema(make_study):
    study, (reader, _) = make_study(Design.UNAIDED_ONLY, n_cases=1)
    a = _first(study, reader)
    services.start(reader, a.pk)
    cases = [
        ({"confidence": 50}, "diagnosis: this question requires an answer"),
        ({**ANSWER, "diagnosis": "stroke"}, "diagnosis"),
        ({**ANSWER, "confidence": 101}, "confidence"),
        ({**ANSWER, "signs": ["halo"]}, "signs"),
        ({**ANSWER, "mood": "good"}, "unknown question"),
    ]
    for answers, message in cases:
        with pytest.raises(StudyError, match=message):
            services.submit(reader, a.pk, answers, client_request_id=f"bad-{message}")
    assert a.revisions.count() == 0


def test_reads_follow_the_stored_order(make_study):
    study, (reader, _) = make_study(Design.UNAIDED_ONLY, n_cases=3)
    second = Assignment.objects.get(study=study, reader__user=reader, position=1)
    with pytest.raises(ProtocolConflict, match="assigned order"):
        services.start(reader, second.pk)


def test_another_readers_assignment_is_not_found(make_study):
    study, (a, b) = make_study(Design.UNAIDED_ONLY, n_cases=1)
    theirs = _first(study, b)
    with pytest.raises(NotAvailable):
        services.start(a, theirs.pk)
    with pytest.raises(NotAvailable):
        services.submit(a, theirs.pk, ANSWER, client_request_id="z")


def test_second_session_waits_for_the_washout(make_study):
    study, (reader, _) = make_study(Design.TWO_SESSIONS, n_cases=2, washout_days=14)
    for a in Assignment.objects.filter(study=study, reader__user=reader, session__index=1).order_by(
        "position"
    ):
        services.start(reader, a.pk)
        services.submit(reader, a.pk, ANSWER, client_request_id=f"s{a.pk}", lock=True)
    nxt, reason = next_assignment(reader, study.pk)
    assert nxt.session.index == 2
    assert reason.startswith("washout")
    with pytest.raises(ProtocolConflict, match="washout"):
        services.start(reader, nxt.pk)
    # Time passes: move the locks back beyond the washout.
    Assignment.objects.filter(study=study, reader__user=reader, session__index=1).update(
        locked_at=timezone.now() - timedelta(days=15)
    )
    assert services.start(reader, nxt.pk).state == Assignment.State.IN_PROGRESS


def test_start_answers_with_the_workspace_and_what_to_prefill(make_study, client):
    study, (reader, other) = make_study(Design.SEQUENTIAL_PER_CASE, n_cases=2)
    client.force_login(reader)
    unaided = _first(study, reader)
    aided = Assignment.objects.get(prerequisite=unaided)
    url = "/api/reading/assignments/{}/start/"
    body = client.post(url.format(unaided.pk)).json()
    assert (body["id"], body["condition"], body["prefill"], body["revisions"]) == (
        unaided.pk, "unaided", None, [],
    )  # fmt: skip
    assert body["images"]["num_slices"] > 0 and body["questions"]
    assert body["case_code"] == unaided.study_case.case.code
    # Resuming after an autosave reopens the form with the draft.
    services.save_draft(reader, unaided.pk, {"diagnosis": "sich"}, active_ms=10)
    body = client.post(url.format(unaided.pk)).json()
    assert body["prefill"] == {"diagnosis": "sich"}
    assert [r["kind"] for r in body["revisions"]] == ["draft"]
    services.submit(reader, unaided.pk, ANSWER, client_request_id="u1", lock=True)
    # The aided read of the same case opens with the reader's own locked unaided answer.
    body = client.post(url.format(aided.pk)).json()
    assert (body["condition"], body["prerequisite"], body["prefill"]) == (
        "aided", unaided.pk, ANSWER,
    )  # fmt: skip
    assert body["revisions"] == []
    # Another reader's start of these assignments is refused, with nothing in the body.
    client.force_login(other)
    response = client.post(url.format(aided.pk))
    assert response.status_code == 404
    assert "cvst_ich" not in response.content.decode()
