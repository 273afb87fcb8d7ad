"""The seed-001 assistance settings: the nomogram, the feature-importance chart and the clinical
variables shown to readers (none unless chosen), through the API and the draft page, checked
against the clinical catalogue."""

import pytest

from readerstudy.cases.clinical import define_variable
from readerstudy.studies import services
from readerstudy.studies.errors import StudyError
from tests.dlrn_outputs import dlrn_version
from tests.factories import PASSWORD, CoordinatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(client):
    user = CoordinatorFactory()
    assert client.login(username=user.username, password=PASSWORD)
    return user


def _study():
    return services.create_study(title="seed 001", design="sequential", randomization_seed=1)


def _patch(client, study, body):
    url = f"/api/studies/{study.pk}/assistance/"
    return client.patch(url, {"condition": "aided", **body}, content_type="application/json")


def test_a_new_condition_shows_none_of_it():
    config = _study().conditions.get(code="aided").assistance
    assert (config.show_nomogram, config.show_feature_importance) == (False, False)
    assert config.show_clinical == []


def test_the_api_sets_the_settings_and_refuses_unknown_variables(client, coordinator):
    study = _study()
    define_variable("gcs", "integer", label="Glasgow coma scale")
    settings = {
        "model_version": dlrn_version().pk, "operating_point": "default",
        "show_nomogram": True, "show_feature_importance": True,
        "show_clinical": ["seizure_at_admission", "gcs"],
    }  # fmt: skip
    r = _patch(client, study, settings)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["show_nomogram"] is True and body["show_feature_importance"] is True
    assert body["show_clinical"] == ["seizure_at_admission", "gcs"]
    r = _patch(client, study, {"show_clinical": ["age", "blood_type"]})
    assert r.status_code == 400 and r.json()["code"] == "bad_clinical"
    assert "no clinical variable 'blood_type'" in r.json()["detail"]
    r = _patch(client, study, {"show_clinical": ["etiology"]})
    assert r.status_code == 400 and "never shown to readers" in r.json()["detail"]
    r = _patch(client, study, {"show_clinical": ["age", "age"]})
    assert r.status_code == 400 and "listed once" in r.json()["detail"]
    config = study.conditions.get(code="aided").assistance
    assert config.show_clinical == ["seizure_at_admission", "gcs"]  # nothing stored half-way


def test_the_service_refuses_a_clinical_value_that_is_not_a_list_of_names():
    study = _study()
    with pytest.raises(StudyError, match="a list of clinical variable names"):
        services.configure_assistance(study, "aided", show_clinical="age")


def test_the_draft_page_form_sets_the_settings(client, coordinator):
    study = _study()
    version = dlrn_version()
    page = client.get(f"/studies/{study.pk}/").content.decode()
    assert "Nomogram with the case" in page and "Clinical data shown to readers" in page
    assert 'value="seizure_at_admission"' in page
    assert 'value="etiology"' not in page  # the truth is never offered
    r = client.post(f"/studies/{study.pk}/conditions/aided/edit/", {
        "c-aided-name": "Aided", "c-aided-model_version": version.pk,
        "c-aided-operating_point": "default", "c-aided-heatmap_opacity": "0.5",
        "c-aided-show_nomogram": "on", "c-aided-show_feature_importance": "on",
        "c-aided-show_clinical": ["seizure_at_admission", "age"],
    }, follow=True)  # fmt: skip
    assert "Condition “Aided” saved." in r.content.decode()
    config = study.conditions.get(code="aided").assistance
    assert config.show_nomogram and config.show_feature_importance
    assert config.show_clinical == ["seizure_at_admission", "age"]
    summary = client.get(f"/studies/{study.pk}/").content.decode()
    assert "nomogram · feature importance · clinical seizure_at_admission, age" in summary
    r = client.post(f"/studies/{study.pk}/conditions/aided/edit/", {
        "c-aided-name": "Aided", "c-aided-model_version": version.pk,
        "c-aided-operating_point": "default", "c-aided-heatmap_opacity": "0.5",
        "c-aided-show_clinical": ["no_such_variable"],
    }, follow=True)  # fmt: skip
    assert "invalid condition" in r.content.decode()
    assert study.conditions.get(code="aided").assistance.show_clinical == [
        "seizure_at_admission", "age"
    ]  # fmt: skip
