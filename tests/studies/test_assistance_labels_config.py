"""The assistance settings of a multi-label model: which labels, the slice strip, the heatmap
scale and the side-by-side view, through the API and the draft page, checked against the
model's labels."""

import pytest

from readerstudy.studies import services
from tests.ai.test_outputs_per_label import multi_label_version
from tests.factories import PASSWORD, CoordinatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(client):
    user = CoordinatorFactory()
    assert client.login(username=user.username, password=PASSWORD)
    return user


def _patch(client, study, body):
    url = f"/api/studies/{study.pk}/assistance/"
    return client.patch(url, {"condition": "aided", **body}, content_type="application/json")


def test_the_api_sets_and_shows_the_settings_and_refuses_unknown_labels(client, coordinator):
    study = services.create_study(title="labels", design="sequential", randomization_seed=1)
    version = multi_label_version()
    settings = {
        "model_version": version.pk, "operating_point": "default", "labels": ["iph", "location"],
        "show_slice_strip": False, "heatmap_scale": "global", "side_by_side": True,
        "show_truth_mask_side_by_side": True,
    }  # fmt: skip
    r = _patch(client, study, settings)
    assert r.status_code == 200, r.content
    body = r.json()
    assert {k: body[k] for k in settings if k != "model_version"} == {
        k: v for k, v in settings.items() if k != "model_version"
    }
    r = _patch(client, study, {"labels": ["iph", "sdh"]})
    assert r.status_code == 400 and r.json()["code"] == "bad_labels"
    assert "has no label 'sdh' (it has any, iph, deep, location, lobar)" in r.json()["detail"]
    r = _patch(client, study, {"side_by_side": False})
    assert r.status_code == 400 and "needs side_by_side" in r.json()["detail"]
    r = _patch(client, study, {"heatmap_scale": "log"})
    assert r.status_code == 400
    config = study.conditions.get(code="aided").assistance
    assert (config.labels, config.side_by_side) == (["iph", "location"], True)


def test_the_draft_page_form_sets_the_settings(client, coordinator):
    study = services.create_study(title="page", design="sequential", randomization_seed=1)
    version = multi_label_version()
    r = client.post(f"/studies/{study.pk}/conditions/aided/edit/", {
        "c-aided-name": "Aided", "c-aided-model_version": version.pk,
        "c-aided-operating_point": "default", "c-aided-heatmap_opacity": "0.5",
        "c-aided-labels": "any, deep", "c-aided-heatmap_scale": "global",
        "c-aided-side_by_side": "on", "c-aided-show_slice_strip": "on",
    }, follow=True)  # fmt: skip
    assert "Condition “Aided” saved." in r.content.decode()
    config = study.conditions.get(code="aided").assistance
    assert (config.labels, config.heatmap_scale, config.side_by_side) == (
        ["any", "deep"], "global", True,
    )  # fmt: skip
    assert config.show_slice_strip and not config.show_truth_mask_side_by_side
    page = client.get(f"/studies/{study.pk}/").content.decode()
    assert "labels any, deep · slice strip · global scale · side by side" in page
