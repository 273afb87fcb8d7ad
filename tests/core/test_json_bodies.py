"""The project JSON parser: deep nesting and text that cannot be stored are 400s naming it."""

import json

import pytest

from readerstudy.cases.models import ImportJob
from readerstudy.studies.models import ReaderStudy
from tests.factories import CoordinatorFactory, ModelVersionFactory, SeriesFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator_client(client):
    client.force_login(CoordinatorFactory())
    return client


def _post(client, url, raw: str):
    return client.post(url, raw, content_type="application/json")


@pytest.mark.parametrize("depth", [5000, 200_000])
@pytest.mark.parametrize("url", ["/api/studies/", "/api/cases/imports/", "/api/ai/jobs/"])
def test_json_nested_thousands_deep_is_a_parse_error(coordinator_client, url, depth):
    r = _post(coordinator_client, url, "[" * depth + "]" * depth)
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["code"] == "too_deep"
    assert "nested" in body["detail"]


def test_nesting_past_the_limit_inside_an_object_is_refused(coordinator_client):
    inner = "[" * 80 + "]" * 80
    r = _post(coordinator_client, "/api/studies/", f'{{"title": {inner}, "design": "sequential"}}')
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "too_deep"
    assert not ReaderStudy.objects.exists()


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ('{"title": "\\ud800", "design": "sequential"}', "surrogate"),
        ('{"title": "ok", "design": "sequential", "description": "\\udc00x"}', "surrogate"),
        ('{"title": "a\\u0000b", "design": "sequential"}', "NUL"),
        ('{"ti\\u0000tle": "a", "design": "sequential"}', "NUL"),
    ],
)
def test_text_that_cannot_be_stored_is_refused(coordinator_client, raw, problem):
    r = _post(coordinator_client, "/api/studies/", raw)
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["code"] == "unstorable_text"
    assert problem in body["detail"]
    assert not ReaderStudy.objects.exists()


def test_a_paired_surrogate_escape_is_ordinary_text(coordinator_client):
    r = _post(
        coordinator_client, "/api/studies/", '{"title": "\\ud83d\\ude00", "design": "sequential"}'
    )
    assert r.status_code == 201, r.content
    assert ReaderStudy.objects.get().title == "😀"


def test_a_json_syntax_error_keeps_its_message_and_gains_a_code(coordinator_client):
    r = _post(coordinator_client, "/api/studies/", '{"title": ')
    assert r.status_code == 400
    assert r.json()["code"] == "parse_error"
    assert "JSON parse error" in r.json()["detail"]


@pytest.mark.parametrize(
    "body", [[None, None], "x", 5, None, {"collection": ["a"]}, {"collection": {"a": 1}}]
)
def test_the_imports_endpoint_refuses_a_body_that_is_not_its_object(coordinator_client, body):
    r = _post(coordinator_client, "/api/cases/imports/", json.dumps(body))
    assert r.status_code == 400, r.content
    assert not ImportJob.objects.exists()


def test_the_imports_endpoint_refuses_a_collection_name_too_long_to_store(coordinator_client):
    r = _post(coordinator_client, "/api/cases/imports/", json.dumps({"collection": "c" * 121}))
    assert r.status_code == 400, r.content
    assert "collection" in r.json()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    "body", [{}, {"collection": "pilot"}, {"collection": ""}, {"collection": None}]
)
def test_the_imports_endpoint_creates_a_waiting_job(coordinator_client, body):
    r = _post(coordinator_client, "/api/cases/imports/", json.dumps(body))
    assert r.status_code == 201, r.content
    assert ImportJob.objects.get().is_waiting


@pytest.mark.parametrize(
    "body",
    [
        [None, None],
        {"case": "C1", "model_version": 2**70},
        {"case": "C1", "model_version": 1, "explain": "ig"},
        {"case": ["C1"], "model_version": 1},
    ],
)
def test_the_inference_endpoint_refuses_odd_bodies(coordinator_client, body):
    ModelVersionFactory()
    SeriesFactory(case__code="C1")
    r = _post(coordinator_client, "/api/ai/jobs/", json.dumps(body))
    assert r.status_code == 400, r.content
