"""A study's conditions through the coordinator API and the draft page."""

import pytest

from readerstudy.studies import conditions, services
from readerstudy.studies.models import ReaderStudy
from tests.factories import PASSWORD, CoordinatorFactory, ModelVersionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(client):
    user = CoordinatorFactory()
    assert client.login(username=user.username, password=PASSWORD)
    return user


def _json(client, method, url, body=None):
    return getattr(client, method)(url, body, content_type="application/json")


def test_a_study_is_created_with_three_conditions_and_shows_them(client, coordinator):
    model = ModelVersionFactory()
    r = _json(client, "post", "/api/studies/", {
        "title": "k=3", "design": "crossover", "randomization_seed": 4,
        "conditions": [
            {"code": "unaided", "name": "Unaided"},
            {"code": "probability", "name": "Probability",
             "assistance": {"model_version": model.pk, "heatmaps": []}},
            {"code": "maps", "name": "Maps", "assistance": {"heatmaps": ["ig"]}},
        ],
    })  # fmt: skip
    assert r.status_code == 201, r.content
    body = r.json()
    assert [(c["code"], c["order"]) for c in body["conditions"]] == [
        ("unaided", 0), ("probability", 1), ("maps", 2),
    ]  # fmt: skip
    assert body["conditions"][0]["assistance"] is None
    assert body["conditions"][1]["assistance"]["model_version"] == model.pk
    assert body["conditions"][2]["assistance"]["heatmaps"] == ["ig"]
    assert [a["name"] for a in body["arms"]] == ["ABC", "BCA", "CAB"]
    assert body["assistance"]["model_version"] == model.pk  # the first aided condition's


def test_put_conditions_replaces_them_and_keeps_kept_settings(client, coordinator):
    study = services.create_study(title="t", design="two_sessions", randomization_seed=1)
    model = ModelVersionFactory()
    services.configure_assistance(study, model_version=model, heatmaps=["shap"])
    url = f"/api/studies/{study.pk}/conditions/"
    r = _json(client, "put", url, [
        {"code": "unaided", "name": "Unaided"},
        {"code": "aided", "name": "Model A"},
        {"code": "model_b", "name": "Model B", "assistance": {"model_version": model.pk}},
    ])  # fmt: skip
    assert r.status_code == 200, r.content
    assert [(c["code"], c["name"]) for c in r.json()] == [
        ("unaided", "Unaided"), ("aided", "Model A"), ("model_b", "Model B"),
    ]  # fmt: skip
    assert r.json()[1]["assistance"]["heatmaps"] == ["shap"]  # kept
    assert study.sessions.count() == 3
    r = _json(client, "patch", f"/api/studies/{study.pk}/assistance/", {"heatmaps": ["ig"]})
    assert (r.status_code, r.json()["code"]) == (400, "condition_required")
    r = _json(client, "patch", f"/api/studies/{study.pk}/assistance/",
              {"condition": "model_b", "heatmaps": ["ig"]})  # fmt: skip
    assert r.status_code == 200 and r.json()["heatmaps"] == ["ig"]
    assert study.conditions.get(code="model_b").assistance.heatmaps == ["ig"]


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        ([{"code": "aided"}, {"code": "unaided"}], "bad_conditions", "comes first"),
        ([{"code": "unaided"}], "bad_conditions", "needs 2 to 8"),
        ([{"code": "unaided"}, {"code": "x"}, {"code": "x"}], None, "x repeated"),
        ([{"code": "unaided"}, {"code": "no spaces"}], None, "slug"),
        ([], None, "empty"),
        (
            [{"code": "unaided"}, {"code": "x", "assistance": {"model_version": 999999}}],
            None,
            "999999",
        ),
        ({"code": "unaided"}, None, "list"),
    ],
)
def test_bad_condition_lists_are_refused_naming_the_problem(client, coordinator, body, code, says):
    study = services.create_study(title="t", design="crossover", randomization_seed=1)
    r = _json(client, "put", f"/api/studies/{study.pk}/conditions/", body)
    assert r.status_code == 400, r.content
    if code is not None:
        assert r.json()["code"] == code
    assert says in r.content.decode()
    assert list(study.conditions.values_list("code", flat=True)) == ["unaided", "aided"]


def test_conditions_of_an_open_study_are_refused(client, coordinator, make_study):
    study, _ = make_study("sequential", n_cases=2, n_readers=1)
    r = _json(client, "put", f"/api/studies/{study.pk}/conditions/",
              [{"code": "unaided"}, {"code": "x"}])  # fmt: skip
    assert (r.status_code, r.json()["code"]) == (409, "design_frozen")


def test_the_draft_page_adds_edits_moves_and_removes_a_condition(client, coordinator):
    study = services.create_study(title="page", design="sequential", randomization_seed=1)
    model = ModelVersionFactory()
    base = f"/studies/{study.pk}/conditions"
    r = client.post(f"{base}/new/", {
        "new-name": "Probability only", "new-model_version": model.pk,
        "new-operating_point": "high_sensitivity", "new-show_probability": "on",
        "new-heatmap_opacity": "0.4",
    }, follow=True)  # fmt: skip
    assert "Condition “Probability only” added." in r.content.decode()
    added = study.conditions.get(code="probability_only")
    assert (added.order, added.assistance.model_version, added.assistance.heatmaps) == (
        2, model, [],
    )  # fmt: skip
    assert added.assistance.show_decision is False
    client.post(f"{base}/probability_only/move/", {"direction": "up"})
    assert list(study.conditions.values_list("code", flat=True)) == [
        "unaided", "probability_only", "aided",
    ]  # fmt: skip
    r = client.post(f"{base}/probability_only/edit/", {
        "c-probability_only-name": "Probability", "c-probability_only-model_version": model.pk,
        "c-probability_only-operating_point": "nowhere", "c-probability_only-heatmap_opacity": "1",
    }, follow=True)  # fmt: skip
    assert "has no operating point" in r.content.decode()  # refused, named
    r = client.post(f"{base}/probability_only/edit/", {
        "c-probability_only-name": "Probability", "c-probability_only-model_version": model.pk,
        "c-probability_only-operating_point": "high_specificity",
        "c-probability_only-heatmap_opacity": "1",
    }, follow=True)  # fmt: skip
    edited = study.conditions.get(code="probability_only")
    assert (edited.name, edited.assistance.operating_point) == ("Probability", "high_specificity")
    page = client.get(f"/studies/{study.pk}/").content.decode()
    assert 'id="study-conditions"' in page and "Probability" in page
    r = client.post(f"{base}/unaided/delete/", follow=True)
    assert "the unaided condition is kept" in r.content.decode()
    client.post(f"{base}/probability_only/delete/")
    assert list(study.conditions.values_list("code", flat=True)) == ["unaided", "aided"]
    r = client.post(f"{base}/aided/move/", {"direction": "sideways"}, follow=True)
    assert "move a condition up or down" in r.content.decode()


def test_the_frozen_page_lists_the_conditions(client, coordinator, make_study):
    study, _ = make_study("crossover", n_cases=2, n_readers=2, open_it=False)
    conditions.add_condition(study, code="maps", name="Maps only",
                             assistance={"model_version": study.assistance.model_version})  # fmt: skip
    services.open_study(study, truth_pending_allowed=True)
    page = client.get(f"/studies/{study.pk}/").content.decode()
    assert 'id="frozen-conditions"' in page
    for text in ("Unaided", "Aided", "Maps only", "nothing is shown", "ABC", "CAB"):
        assert text in page
    assert ReaderStudy.objects.get(pk=study.pk).status == "open"
