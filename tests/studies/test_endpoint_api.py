"""Endpoints over the API: in the study detail, replaced by PUT (draft only), presets on creation."""

import copy
import json

import pytest

from readerstudy.studies import services
from readerstudy.studies.models import Design, ReaderStudy
from readerstudy.studies.presets import PRESETS
from tests.factories import CoordinatorFactory, ReaderFactory, cases_with_series

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator_client(client):
    client.force_login(CoordinatorFactory())
    return client


def _send(client, method, url, body):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def _create(client, **fields):
    body = {"title": "api", "design": Design.UNAIDED_ONLY, "randomization_seed": 5, **fields}
    return _send(client, "post", "/api/studies/", body)


def test_a_study_is_created_from_a_preset_and_shows_its_endpoints(coordinator_client):
    r = _create(coordinator_client, preset="seed003")
    assert r.status_code == 201, r.content
    body = r.json()
    assert [q["code"] for q in body["questions"]] == ["ich", "location"]
    assert body["questions"][1]["show_if"] == {"question": "ich", "equals": "yes"}
    assert body["endpoints"] == [
        {
            "code": "ich", "name": "ICH present", "kind": "binary", "truth_field": "ich_present",
            "labels": [{"value": "yes", "label": "ICH present"}, {"value": "no", "label": "No ICH"}],
            "question": "ich", "rating_question": None, "is_primary": True, "order": 0,
        },
        {
            "code": "location", "name": "Hematoma location", "kind": "multi_class",
            "truth_field": "location", "labels": PRESETS["seed003"].endpoints[1]["labels"],
            "question": "location", "rating_question": None, "is_primary": False, "order": 1,
        },
    ]  # fmt: skip
    default = _create(coordinator_client).json()
    assert [(e["code"], e["rating_question"]) for e in default["endpoints"]] == [
        ("etiology", "confidence")
    ]
    assert [e["value"] for e in default["endpoints"][0]["labels"]] == ["cvst_ich", "sich"]


def test_an_unknown_preset_is_refused(coordinator_client):
    r = _create(coordinator_client, preset="seed999")
    assert r.status_code == 400 and "preset" in r.json()


def test_put_endpoints_replaces_them(coordinator_client):
    study = _create(coordinator_client, preset="seed003").json()
    specs = copy.deepcopy(PRESETS["seed003"].endpoints[:1])
    specs[0]["labels"] = [{"value": "yes"}, {"value": "no"}]
    r = _send(coordinator_client, "put", f"/api/studies/{study['id']}/endpoints/", specs)
    assert r.status_code == 200, r.content
    assert r.json() == [
        {
            "code": "ich", "name": "ICH present", "kind": "binary", "truth_field": "ich_present",
            "labels": [{"value": "yes", "label": "yes"}, {"value": "no", "label": "no"}],
            "question": "ich", "rating_question": None, "is_primary": True, "order": 0,
        }
    ]  # fmt: skip
    detail = coordinator_client.get(f"/api/studies/{study['id']}/").json()
    assert [e["code"] for e in detail["endpoints"]] == ["ich"]


@pytest.mark.parametrize(
    ("change", "status", "named"),
    [
        (lambda s: s[0].update(kind="ordinal"), 400, "kind"),
        (lambda s: s[0].update(labels="yes"), 400, "labels"),
        (lambda s: s[0].pop("question"), 400, "question"),
        (lambda s: s[1].update(question="ich"), 400, "endpoint_question"),
        (lambda s: s[1].update(is_primary=True), 400, "primary_endpoint"),
        (lambda s: s.clear(), 400, "non_field_errors"),
    ],
)
def test_put_endpoints_refuses_bad_lists(coordinator_client, change, status, named):
    study = _create(coordinator_client, preset="seed003").json()
    specs = copy.deepcopy(PRESETS["seed003"].endpoints)
    change(specs)
    r = _send(coordinator_client, "put", f"/api/studies/{study['id']}/endpoints/", specs)
    assert r.status_code == status, r.content
    assert named in r.content.decode()
    detail = coordinator_client.get(f"/api/studies/{study['id']}/").json()
    assert [e["code"] for e in detail["endpoints"]] == ["ich", "location"]


def test_put_questions_refuses_a_bad_show_if(coordinator_client):
    study = _create(coordinator_client, preset="seed003").json()
    questions = copy.deepcopy(PRESETS["seed003"].questions)
    questions[1]["show_if"] = {"question": "ich", "equals": "maybe"}
    r = _send(coordinator_client, "put", f"/api/studies/{study['id']}/questions/", questions)
    assert r.status_code == 400
    assert r.json()["code"] == "bad_question" and "'maybe'" in r.json()["detail"]


def test_presets_apply_to_drafts_only(coordinator_client):
    study = _create(coordinator_client).json()
    r = _send(
        coordinator_client, "post", f"/api/studies/{study['id']}/preset/", {"preset": "seed002"}
    )
    assert r.status_code == 200, r.content
    assert [e["code"] for e in r.json()["endpoints"]] == ["subtypes"]
    opened = ReaderStudy.objects.get(pk=study["id"])
    services.add_cases(opened, cases_with_series(1))
    services.enroll_reader(opened, ReaderFactory())
    services.open_study(opened, truth_pending_allowed=True)
    r = _send(
        coordinator_client, "post", f"/api/studies/{study['id']}/preset/", {"preset": "seed000"}
    )
    assert r.status_code == 409 and r.json()["code"] == "design_frozen"
    specs = copy.deepcopy(PRESETS["seed002"].endpoints)
    r = _send(coordinator_client, "put", f"/api/studies/{study['id']}/endpoints/", specs)
    assert r.status_code == 409 and r.json()["code"] == "design_frozen"
