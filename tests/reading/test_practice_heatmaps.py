"""Practice heatmaps: where the study's aided condition shows heatmaps, the aided practice read
and the feedback list them as the aided view does, and their volumes are served only after the
case's unaided practice answer is stored (never to an unaided read before it), to that reader,
for the methods and labels the condition shows."""

import json

import pytest
from django.urls import reverse

from readerstudy.ai.models import Heatmap
from readerstudy.ai.selectors import heatmap_overlay
from readerstudy.reading.assistance_serializers import AssistanceHeatmapSerializer
from readerstudy.studies.models import Design
from readerstudy.studies.practice import PracticeRule
from tests.factories import PASSWORD, CoordinatorFactory
from tests.reading.practice_world import answer, build

pytestmark = pytest.mark.django_db
POSITIVE = "cvst_ich"  # the factory model's positive label


def _url(study, practice_case, method="gradcampp", label=POSITIVE):
    return reverse("reading-practice-heatmap", args=[study.pk, practice_case.pk, method, label])


def _state(client, study):
    response = client.get(reverse("reading-practice", args=[study.pk]))
    assert response.status_code == 200, response.content
    return response.json()


def _post(client, study, practice_case, condition, diagnosis, tag=""):
    body = {
        "practice_case": practice_case.pk,
        "condition": condition,
        "answers": answer(diagnosis),
        "client_request_id": f"{tag}{practice_case.pk}-{condition}",
    }
    response = client.post(
        reverse("reading-practice-answers", args=[study.pk]), body, "application/json"
    )
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def world(make_study, client):
    study, readers, practice, coordinator = build(make_study, heatmaps=["gradcampp"])
    client.login(username=readers[0].username, password=PASSWORD)
    return study, readers, practice


def test_maps_follow_the_unaided_answer_in_the_aided_views_form(world, client):
    study, _, practice = world
    first = _state(client, study)
    assert first["next"]["condition"] == "unaided" and first["next"]["model"] is None
    assert "heatmap" not in json.dumps(first)  # nothing of the model before the unaided answer
    assert client.get(_url(study, practice[0])).status_code == 404

    body = _post(client, study, practice[0], "unaided", "sich")
    (entry,) = body["feedback"]["model"]["heatmaps"]  # IG is stored but not shown
    assert set(entry) == set(AssistanceHeatmapSerializer().fields)
    assert (entry["method"], entry["label"], entry["url"]) == (
        "gradcampp", POSITIVE, _url(study, practice[0]),
    )  # fmt: skip
    assert entry["opacity"] == pytest.approx(0.45) and entry["scale"]["mode"] == "case"
    assert body["feedback"]["model"]["positive_label"] == POSITIVE
    aided = body["state"]["next"]
    assert aided["condition"] == "aided"
    assert aided["model"]["heatmaps"] == body["feedback"]["model"]["heatmaps"]

    response = client.get(entry["url"])
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    heatmap = Heatmap.objects.get(
        output__job__case=practice[0].case, method="gradcampp", label=POSITIVE
    )
    descriptor, data = heatmap_overlay(heatmap)  # the aided view's encoding of that map
    assert json.loads(response["X-Overlay"]) == descriptor and response.content == data

    # Only what the aided condition shows, of this case.
    assert client.get(_url(study, practice[0], method="ig")).status_code == 404
    assert client.get(_url(study, practice[0], label="sich")).status_code == 404
    assert client.get(_url(study, practice[1])).status_code == 404  # not answered yet
    # A study case, by its study-case or case id, or the practice case's case id, never answers.
    ids = {practice[0].case_id} | {i for sc in study.study_cases.all() for i in (sc.pk, sc.case_id)}
    ids -= {p.pk for p in practice}
    assert ids
    for pk in ids:
        url = reverse("reading-practice-heatmap", args=[study.pk, pk, "gradcampp", POSITIVE])
        assert client.get(url).status_code == 404

    aided_feedback = _post(client, study, practice[0], "aided", "cvst_ich")["feedback"]
    assert aided_feedback["model"]["heatmaps"] == [entry]
    assert client.get(reverse(
        "reading-practice-feedback", args=[study.pk, practice[0].pk]
    )).json()["model"]["heatmaps"] == [entry]  # fmt: skip


def test_other_readers_and_other_roles_get_no_map(world, client):
    study, readers, practice = world
    _post(client, study, practice[0], "unaided", "sich")
    assert client.get(_url(study, practice[0])).status_code == 200
    client.logout()
    client.login(username=readers[1].username, password=PASSWORD)
    assert client.get(_url(study, practice[0])).status_code == 404  # not their answer
    client.force_login(CoordinatorFactory())
    assert client.get(_url(study, practice[0])).status_code == 403


def test_a_new_attempt_closes_the_last_attempts_maps_and_feedback(make_study, client):
    study, readers, practice, _ = build(
        make_study, heatmaps=["gradcampp"], rule=PracticeRule.AT_LEAST, k=3
    )
    client.login(username=readers[0].username, password=PASSWORD)
    for case in practice:
        for condition in ("unaided", "aided"):
            last = _post(client, study, case, condition, "sich", "a1-")
    assert last["state"]["status"] == "retry"
    assert last["feedback"]["model"]["heatmaps"]  # the last answer still gets its feedback
    feedback = reverse("reading-practice-feedback", args=[study.pk, practice[0].pk])
    # The next read is the unaided read of the first case again: neither its map nor its truth.
    assert client.get(_url(study, practice[0])).status_code == 404
    assert client.get(feedback).status_code == 404
    _post(client, study, practice[0], "unaided", "cvst_ich", "a2-")
    assert client.get(_url(study, practice[0])).status_code == 200
    assert client.get(feedback).status_code == 200


def test_no_maps_where_the_aided_condition_shows_none(make_study, client):
    study, readers, practice, _ = build(make_study)
    client.login(username=readers[0].username, password=PASSWORD)
    body = _post(client, study, practice[0], "unaided", "sich")
    assert "heatmaps" not in body["feedback"]["model"]
    assert "heatmaps" not in body["state"]["next"]["model"]
    assert client.get(_url(study, practice[0])).status_code == 404


def test_an_unaided_only_study_shows_no_maps_in_practice(make_study, client):
    study, readers, practice, _ = build(
        make_study, design=Design.UNAIDED_ONLY, heatmaps=["gradcampp"]
    )
    client.login(username=readers[0].username, password=PASSWORD)
    body = _post(client, study, practice[0], "unaided", "sich")
    assert "heatmaps" not in body["feedback"]["model"]
    assert client.get(_url(study, practice[0])).status_code == 404
