"""Practice reads: order, feedback, the qualification rule gating the study's reads, retries,
coordinator grants, idempotent and append-only answers, and who may see the feedback."""

import pytest
from django.urls import reverse

from readerstudy.reading import practice_services, services
from readerstudy.reading.models import AnswerRevision
from readerstudy.reading.practice import PracticeAnswer
from readerstudy.studies import practice_services as setup
from readerstudy.studies.errors import StudyError
from readerstudy.studies.models import Assignment
from readerstudy.studies.practice import PracticeRule, PracticeStanding
from tests.factories import PASSWORD, CoordinatorFactory, StatisticianFactory
from tests.reading.practice_world import answer, build

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_study, client):
    study, readers, practice, coordinator = build(make_study)
    client.login(username=readers[0].username, password=PASSWORD)
    return study, readers[0], practice, coordinator


def _state(client, study):
    response = client.get(reverse("reading-practice", args=[study.pk]))
    assert response.status_code == 200, response.content
    return response.json()


def _post(client, study, practice_case, condition, diagnosis, request_id=None):
    body = {
        "practice_case": practice_case.pk,
        "condition": condition,
        "answers": answer(diagnosis),
        "client_request_id": request_id or f"{practice_case.pk}-{condition}-{diagnosis}",
    }
    return client.post(
        reverse("reading-practice-answers", args=[study.pk]), body, "application/json"
    )


def _first_assignment(study, reader):
    return Assignment.objects.filter(study=study, reader__user=reader).order_by("position")[0]


def _read_all(client, study, practice, diagnoses, attempt_tag=""):
    """One attempt: unaided then aided per case, the aided answer as the unaided one."""
    last = None
    for case, diagnosis in zip(practice, diagnoses, strict=True):
        for condition in ("unaided", "aided"):
            last = _post(
                client, study, case, condition, diagnosis, f"{attempt_tag}{case.pk}{condition}"
            )
            assert last.status_code == 201, last.content
    return last.json()


def test_the_state_shows_the_task_rule_and_the_first_read(world, client):
    study, _, practice, _ = world
    state = _state(client, study)
    assert state["status"] == "in_progress" and state["required"] is True
    assert state["task_text"] == "Decide CVST-related ICH or spontaneous ICH."
    assert state["rule"]["kind"] == "at_least" and state["rule"]["min_correct"] == 2
    assert "at least 2 of the 3" in state["rule"]["text"]
    assert (state["cases"], state["reads_total"], state["reads_done"]) == (3, 6, 0)
    nxt = state["next"]
    assert (nxt["practice_case"], nxt["condition"], nxt["aided"]) == (
        practice[0].pk,
        "unaided",
        False,
    )
    assert nxt["model"] is None and nxt["images"]["series_instance_uid"]
    assert "truth" not in str(nxt)  # nothing of the truth before an answer


def test_study_reads_are_refused_until_the_rule_is_met(world, client):
    study, reader, _, _ = world
    first = _first_assignment(study, reader)
    response = client.post(reverse("reading-start", args=[first.pk]))
    assert response.status_code == 409 and response.json()["code"] == "practice_required"
    assert f"/api/reading/studies/{study.pk}/practice/" in response.json()["detail"]
    for call in (
        lambda: services.save_draft(reader, first.pk, {"diagnosis": "sich"}),
        lambda: services.submit(reader, first.pk, answer("sich"), client_request_id="r1"),
        lambda: services.lock(reader, first.pk),
    ):
        with pytest.raises(StudyError) as exc:
            call()
        assert exc.value.code == "practice_required"
    assert not AnswerRevision.objects.exists()


def test_reads_go_in_order_with_feedback_after_each(world, client):
    study, reader, practice, _ = world
    wrong_order = _post(client, study, practice[0], "aided", "cvst_ich")
    assert wrong_order.status_code == 409 and wrong_order.json()["code"] == "practice_out_of_order"
    skipped = _post(client, study, practice[1], "unaided", "sich")
    assert skipped.json()["code"] == "practice_out_of_order"
    result = _post(client, study, practice[0], "unaided", "sich")
    assert result.status_code == 201
    body = result.json()
    assert body["answer"]["correct"] is False and body["feedback"]["correct"] is False
    (row,) = body["feedback"]["rows"]
    assert row["primary"] is True
    assert row["truth"] == "CVST-related ICH"
    assert row["answers"] == {"unaided": {"value": "Spontaneous ICH", "correct": False}}
    model = body["feedback"]["model"]
    assert model["available"] is True and model["probability"] == pytest.approx(0.8125)
    assert model["decision"]["label"] == "cvst_ich"
    nxt = body["state"]["next"]
    assert (nxt["practice_case"], nxt["condition"], nxt["aided"]) == (practice[0].pk, "aided", True)
    assert nxt["prefill"] == answer("sich")  # the aided read opens from the own unaided answer
    assert nxt["model"]["probability"] == pytest.approx(0.8125)
    aided = _post(client, study, practice[0], "aided", "cvst_ich").json()
    assert aided["feedback"]["rows"][0]["answers"]["aided"] == {
        "value": "CVST-related ICH", "correct": True,
    }  # fmt: skip
    assert aided["feedback"]["correct"] is False  # scored on the unaided answer
    feedback = client.get(
        reverse("reading-practice-feedback", args=[study.pk, practice[0].pk])
    ).json()
    assert feedback == aided["feedback"]


def test_passing_opens_the_study(world, client):
    study, reader, practice, _ = world
    first = _first_assignment(study, reader)
    last = _read_all(client, study, practice, ["cvst_ich", "cvst_ich", "cvst_ich"])
    assert last["state"]["status"] == "qualified" and last["state"]["correct"] == 2
    standing = PracticeStanding.objects.get(reader__user=reader)
    assert standing.qualified_via == PracticeStanding.Via.RULE and standing.qualified_at
    assert client.post(reverse("reading-start", args=[first.pk])).status_code == 200
    # Practice is over: no more practice answers.
    closed = _post(client, study, practice[0], "unaided", "sich", "again")
    assert closed.status_code == 409 and closed.json()["code"] == "practice_closed"


def test_failing_allows_a_retry_then_blocks_until_a_coordinator_grants(world, client):
    study, reader, practice, coordinator = world
    first = _first_assignment(study, reader)
    last = _read_all(client, study, practice, ["sich", "cvst_ich", "sich"], "a1-")
    state = last["state"]
    assert state["status"] == "retry" and state["correct"] == 0 and state["attempt"] == 2
    assert "1 attempt(s) left" in state["message"]
    assert state["next"]["practice_case"] == practice[0].pk and state["reads_done"] == 0
    last = _read_all(client, study, practice, ["cvst_ich", "cvst_ich", "sich"], "a2-")
    state = last["state"]
    assert state["status"] == "blocked" and state["correct"] == 1 and state["next"] is None
    assert "ask the study coordinator" in state["message"]
    assert client.post(reverse("reading-start", args=[first.pk])).json()["code"] == (
        "practice_required"
    )
    refused = client.post(reverse("reading-practice-finish", args=[study.pk]))
    assert refused.status_code == 409 and refused.json()["code"] == "practice_required"
    setup.grant_attempt(study.readers.get(user=reader), by=coordinator)
    state = _state(client, study)
    assert state["status"] == "retry" and state["attempts_allowed"] == 3
    setup.grant_qualification(study.readers.get(user=reader), by=coordinator)
    assert _state(client, study)["status"] == "qualified"
    assert client.post(reverse("reading-start", args=[first.pk])).status_code == 200
    assert PracticeAnswer.objects.filter(reader__user=reader).count() == 12  # both attempts kept


def test_all_done_rule_and_optional_practice(make_study, client):
    study, readers, practice, _ = build(make_study, rule=PracticeRule.ALL_DONE)
    client.login(username=readers[0].username, password=PASSWORD)
    refused = client.post(reverse("reading-practice-finish", args=[study.pk]))
    assert refused.status_code == 409  # all_done: cannot skip
    last = _read_all(client, study, practice, ["sich", "sich", "sich"])
    assert last["state"]["status"] == "qualified"  # every read done, whatever the answers

    optional, readers2, _, _ = build(make_study, rule=PracticeRule.NONE)
    client.login(username=readers2[0].username, password=PASSWORD)
    first = _first_assignment(optional, readers2[0])
    assert client.post(reverse("reading-start", args=[first.pk])).status_code == 200  # no gate
    assert _state(client, optional)["status"] == "in_progress"
    skipped = client.post(reverse("reading-practice-finish", args=[optional.pk])).json()
    assert skipped["status"] == "qualified"
    via = PracticeStanding.objects.get(reader__user=readers2[0]).qualified_via
    assert via == PracticeStanding.Via.OPTIONAL


def test_submission_is_idempotent_and_answers_are_append_only(world, client):
    study, _, practice, _ = world
    first = _post(client, study, practice[0], "unaided", "sich", "same")
    again = _post(client, study, practice[0], "unaided", "sich", "same")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["answer"]["id"] == first.json()["answer"]["id"]
    reused = client.post(
        reverse("reading-practice-answers", args=[study.pk]),
        {"practice_case": practice[0].pk, "condition": "unaided",
         "answers": answer("cvst_ich"), "client_request_id": "same"},
        "application/json",
    )  # fmt: skip
    assert reused.status_code == 409 and reused.json()["code"] == "request_id_reused"
    row = PracticeAnswer.objects.get()
    row.answers = answer("cvst_ich")
    with pytest.raises(StudyError):
        row.save()
    with pytest.raises(StudyError):
        row.delete()
    bad = client.post(
        reverse("reading-practice-answers", args=[study.pk]),
        {"practice_case": practice[0].pk, "condition": "aided",
         "answers": {"diagnosis": "maybe"}, "client_request_id": "bad"},
        "application/json",
    )  # fmt: skip
    assert bad.status_code == 400
    assert PracticeAnswer.objects.count() == 1  # nothing stored for the refused answer


def test_feedback_never_reveals_truth_it_should_not(world, make_study, client):
    study, reader, practice, _ = world
    url = lambda study_id, pk: reverse("reading-practice-feedback", args=[study_id, pk])  # noqa: E731
    # Not answered yet: no truth.
    assert client.get(url(study.pk, practice[0].pk)).status_code == 404
    # Answered: feedback on that practice case only; a study case of the same study, by its
    # study-case id or its case id, or the practice case's own case id, never answers.
    _post(client, study, practice[0], "unaided", "sich")
    assert client.get(url(study.pk, practice[0].pk)).status_code == 200
    ids = {practice[0].case_id} | {i for sc in study.study_cases.all() for i in (sc.pk, sc.case_id)}
    ids -= {practice[0].pk}
    assert ids
    for pk in ids:
        response = client.get(url(study.pk, pk))
        assert response.status_code == 404
        assert "truth" not in response.content.decode()
    # Another study's practice case, answered by another reader there.
    other, other_readers, other_practice, _ = build(make_study)
    assert client.get(url(other.pk, other_practice[0].pk)).status_code == 404  # not enrolled
    assert client.get(url(study.pk, other_practice[0].pk)).status_code == 404
    # Another reader of the same study does not see this reader's feedback.
    client.logout()
    client.login(
        username=study.readers.exclude(user=reader).first().user.username, password=PASSWORD
    )
    assert client.get(url(study.pk, practice[0].pk)).status_code == 404
    # Not readers at all.
    for user in (CoordinatorFactory(), StatisticianFactory()):
        client.force_login(user)
        assert client.get(url(study.pk, practice[0].pk)).status_code == 403
        assert client.get(reverse("reading-practice", args=[study.pk])).status_code == 403


def test_practice_waits_for_consent(world, client):
    from readerstudy.studies.consent import set_consent_text

    study, _, _, _ = world
    set_consent_text(study, "I agree.")
    response = client.get(reverse("reading-practice", args=[study.pk]))
    assert response.status_code == 409 and response.json()["code"] == "consent_required"


def test_direct_service_call_scores_against_the_primary_endpoint(world):
    study, reader, practice, _ = world
    result = practice_services.submit(
        reader, study.pk, practice_case_id=practice[0].pk, condition="unaided",
        answers=answer("cvst_ich"), client_request_id="svc",
    )  # fmt: skip
    assert result.created and result.answer.correct is True and result.state.correct == 1
