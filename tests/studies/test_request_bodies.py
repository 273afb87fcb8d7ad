"""Odd request bodies on the study design API are refused with a 4xx naming the problem."""

import json

import pytest

from readerstudy.studies import services
from readerstudy.studies.errors import StudyError
from readerstudy.studies.models import MAX_WASHOUT_DAYS, Question, ReaderStudy
from tests.factories import CoordinatorFactory, ModelVersionFactory, cases_with_series

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator_client(client):
    client.force_login(CoordinatorFactory())
    return client


@pytest.fixture
def draft(db):
    return services.create_study(title="draft", design="sequential", randomization_seed=7)


def _send(client, method, url, body):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("cases/", "post"),
        ("readers/", "post"),
        ("assistance/", "patch"),
        ("grant-statistician/", "post"),
    ],
)
@pytest.mark.parametrize("body", [[None, None], "text", 5, None])
def test_a_body_that_is_not_an_object_is_refused(coordinator_client, draft, path, method, body):
    r = _send(coordinator_client, method, f"/api/studies/{draft.pk}/{path}", body)
    assert r.status_code == 400, r.content
    assert r.json()


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"case_codes": "C00001"}, "case_codes"),
        ({"case_codes": [None]}, "case_codes"),
        ({"case_codes": [["C1"]]}, "case_codes"),
        ({"case_codes": [{"a": 1}]}, "case_codes"),
        ({"case_codes": []}, "case_codes"),
        ({}, "case_codes"),
    ],
)
def test_case_codes_must_be_a_list_of_codes(coordinator_client, draft, body, names):
    r = _send(coordinator_client, "post", f"/api/studies/{draft.pk}/cases/", body)
    assert r.status_code == 400, r.content
    assert names in r.json()
    assert not draft.study_cases.exists()


@pytest.mark.parametrize("usernames", [[None], [{"x": 1}], "reader", [], [["a"]]])
def test_usernames_must_be_a_list_of_names(coordinator_client, draft, usernames):
    r = _send(
        coordinator_client, "post", f"/api/studies/{draft.pk}/readers/", {"usernames": usernames}
    )
    assert r.status_code == 400, r.content
    assert "usernames" in r.json()


GOOD_QUESTION = {
    "code": "diagnosis",
    "type": "binary",
    "text": "Etiology",
    "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
    "is_primary": True,
}


@pytest.mark.parametrize(
    "body",
    [
        {"code": "x"},
        "questions",
        [None],
        [5],
        [[GOOD_QUESTION]],
        [{"type": "binary"}],
        [{"code": "x"}],
        [{**GOOD_QUESTION, "code": None}],
        [{**GOOD_QUESTION, "code": ["x"]}],
        [{**GOOD_QUESTION, "type": ["binary"]}],
        [{**GOOD_QUESTION, "type": "essay"}],
        [{**GOOD_QUESTION, "options": "a,b"}],
        [{**GOOD_QUESTION, "options": [None, None]}],
        [{**GOOD_QUESTION, "options": ["a", "b"]}],
        [{**GOOD_QUESTION, "options": [{"label": "A"}, {"label": "B"}]}],
        [{**GOOD_QUESTION, "options": [{"value": ["a"]}, {"value": "b"}]}],
        [{**GOOD_QUESTION, "options": [{"value": "a"}, {"value": "a"}]}],
        [{**GOOD_QUESTION, "text": "x" * 301}],
        [{**GOOD_QUESTION, "required": "maybe"}],
        [GOOD_QUESTION, GOOD_QUESTION],
    ],
)
def test_malformed_question_lists_are_refused_and_change_nothing(coordinator_client, draft, body):
    before = list(draft.questions.values_list("code", flat=True))
    r = _send(coordinator_client, "put", f"/api/studies/{draft.pk}/questions/", body)
    assert r.status_code == 400, r.content
    assert r.json()
    assert list(Question.objects.filter(study=draft).values_list("code", flat=True)) == before


def test_a_good_question_list_is_stored(coordinator_client, draft):
    r = _send(coordinator_client, "put", f"/api/studies/{draft.pk}/questions/", [GOOD_QUESTION])
    assert r.status_code == 200, r.content
    q = draft.questions.get()
    assert (q.code, q.type, q.text, q.required, q.is_primary) == (
        "diagnosis", "binary", "Etiology", True, True,
    )  # fmt: skip
    assert q.options == GOOD_QUESTION["options"]


@pytest.mark.parametrize(
    "body",
    [
        {"heatmaps": None},
        {"heatmaps": "gradcampp"},
        {"heatmaps": 5},
        {"heatmaps": {"ig": True}},
        {"heatmaps": [None]},
        {"heatmaps": [["ig"]]},
        {"heatmaps": ["not-a-method"]},
        {"heatmap_opacity": 2},
        {"heatmap_opacity": "NaN"},
        {"show_probability": "sometimes"},
        {"operating_point": None},
        {"operating_point": "x" * 65},
        {"model_version": 2**70},
        {"model_version": "first"},
    ],
)
def test_wrong_assistance_settings_are_refused(coordinator_client, draft, body):
    before = draft.assistance.heatmaps
    r = _send(coordinator_client, "patch", f"/api/studies/{draft.pk}/assistance/", body)
    assert r.status_code == 400, r.content
    assert set(body) <= set(r.json())
    draft.assistance.refresh_from_db()
    assert draft.assistance.heatmaps == before


def test_assistance_settings_are_stored(coordinator_client, draft):
    model = ModelVersionFactory()
    r = _send(
        coordinator_client,
        "patch",
        f"/api/studies/{draft.pk}/assistance/",
        {"model_version": model.pk, "heatmaps": ["ig", "shap"], "heatmap_opacity": 0.5},
    )
    assert r.status_code == 200, r.content
    draft.assistance.refresh_from_db()
    assert (draft.assistance.model_version, draft.assistance.heatmaps) == (model, ["ig", "shap"])


@pytest.mark.parametrize("granted", ["sometimes", None, [True], {"a": 1}])
def test_grant_takes_a_boolean(coordinator_client, draft, granted):
    r = _send(
        coordinator_client,
        "post",
        f"/api/studies/{draft.pk}/grant-statistician/",
        {"granted": granted},
    )
    assert r.status_code == 400, r.content
    assert "granted" in r.json()
    draft.refresh_from_db()
    assert draft.statistician_access is False


def test_grant_false_revokes(coordinator_client, draft):
    draft.statistician_access = True
    draft.save()
    r = _send(
        coordinator_client,
        "post",
        f"/api/studies/{draft.pk}/grant-statistician/",
        {"granted": False},
    )
    assert r.status_code == 200, r.content
    draft.refresh_from_db()
    assert draft.statistician_access is False


# --- washout bounds ---------------------------------------------------------------------------


@pytest.mark.parametrize("washout", [MAX_WASHOUT_DAYS + 1, 10**9, 2**31, 4294967299, 2**63, -1])
def test_out_of_range_washout_is_refused_and_nothing_is_stored(coordinator_client, washout):
    """On PostgreSQL with server-side binding, 4294967299 was stored as 3 (int4 wrap-around)."""
    r = _send(
        coordinator_client,
        "post",
        "/api/studies/",
        {"title": "w", "design": "two_sessions", "washout_days": washout},
    )
    assert r.status_code == 400, r.content
    assert "washout_days" in r.json()
    assert not ReaderStudy.objects.exists()


def test_the_largest_washout_is_stored_as_sent(coordinator_client):
    r = _send(
        coordinator_client,
        "post",
        "/api/studies/",
        {"title": "w", "design": "two_sessions", "washout_days": MAX_WASHOUT_DAYS},
    )
    assert r.status_code == 201, r.content
    study = ReaderStudy.objects.get(pk=r.json()["id"])
    assert study.washout_days == MAX_WASHOUT_DAYS
    assert sorted(study.sessions.values_list("washout_days", flat=True)) == [0, MAX_WASHOUT_DAYS]


@pytest.mark.parametrize("washout", [MAX_WASHOUT_DAYS + 1, 4294967299, 2**63])
def test_the_study_page_refuses_out_of_range_washout(coordinator_client, washout):
    r = coordinator_client.post(
        "/studies/", {"title": "w", "design": "two_sessions", "washout_days": washout}
    )
    assert r.status_code == 200
    assert f"less than or equal to {MAX_WASHOUT_DAYS}" in r.content.decode()
    assert not ReaderStudy.objects.exists()


@pytest.mark.parametrize("washout", [MAX_WASHOUT_DAYS + 1, 10**9, 4294967299, -1])
def test_the_service_refuses_out_of_range_washout(washout):
    with pytest.raises(StudyError, match="washout"):
        services.create_study(title="w", design="two_sessions", washout_days=washout)
    assert not ReaderStudy.objects.exists()


def test_cases_added_through_the_api_are_stored(coordinator_client, draft):
    cases = cases_with_series(2)
    r = _send(
        coordinator_client, "post", f"/api/studies/{draft.pk}/cases/",
        {"case_codes": [c.code for c in cases]},
    )  # fmt: skip
    assert r.status_code == 200, r.content
    assert draft.study_cases.count() == 2
