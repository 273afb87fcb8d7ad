"""Seed 001's aided view: the DLRN's nomogram with this case's points, the feature-importance
chart and the clinical data the study chose, each only when configured, each recorded in the
exposure, and none of it anywhere an unaided read (or an aided read before its lock) can reach."""

import json

import pytest

from readerstudy.cases.models import ClinicalRecord
from readerstudy.reading import services
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Assignment, Design
from tests.dlrn_outputs import BETA_SEIZURE, POINTS_PER_UNIT, dlrn_version, make_dlrn_output
from tests.factories import ReaderFactory, cases_with_series

pytestmark = pytest.mark.django_db
ANSWER = {"diagnosis": "sich", "confidence": 40}
CLINICAL = {"age": 34.0, "sex": "F", "seizure_at_admission": True, "hypertension": False}
SECRET_AGE = 34.0  # a value only the clinical part may carry


def _study(**assistance):
    version = dlrn_version()
    (case,) = cases_with_series(1)
    ClinicalRecord.objects.create(case=case, values=CLINICAL)
    study = study_services.create_study(
        title="seed 001", design=Design.SEQUENTIAL_PER_CASE, randomization_seed=3,
        conditions=[
            {"code": "unaided", "name": "Unaided"},
            {"code": "aided", "name": "Aided", "assistance": {
                "model_version": version, "operating_point": "default", "heatmaps": [],
                **assistance}},
        ],
    )  # fmt: skip
    study_services.add_cases(study, [case])
    reader = ReaderFactory()
    study_services.enroll_reader(study, reader)
    study = study_services.open_study(study, truth_pending_allowed=True)
    output = make_dlrn_output(case, version)
    unaided, aided = Assignment.objects.filter(study=study).order_by("position")
    return reader, unaided, aided, output


ALL = {
    "show_nomogram": True,
    "show_feature_importance": True,
    "show_clinical": ["seizure_at_admission", "age"],
}


def _read_unaided(client, reader, unaided):
    client.force_login(reader)
    started = client.post(f"/api/reading/assignments/{unaided.pk}/start/")
    assert started.status_code == 200
    services.submit(reader, unaided.pk, ANSWER, client_request_id="u", lock=True)
    return started


def _aided(client, aided):
    assert client.post(f"/api/reading/assignments/{aided.pk}/start/").status_code == 200
    response = client.get(f"/api/reading/assignments/{aided.pk}/assistance/")
    assert response.status_code == 200, response.content
    return response.json()


def test_the_aided_payload_shows_the_nomogram_features_and_chosen_clinical(client):
    reader, unaided, aided, output = _study(**ALL)
    _read_unaided(client, reader, unaided)
    payload = _aided(client, aided)
    nomogram = payload["nomogram"]
    seizure_points = BETA_SEIZURE * POINTS_PER_UNIT
    assert [v["name"] for v in nomogram["variables"]] == ["dlr_signature", "seizure_at_admission"]
    assert nomogram["variables"][0]["points"] == pytest.approx(82.0)
    assert nomogram["variables"][1] == {
        "name": "seizure_at_admission", "display": "Epilepsy / seizure at admission",
        "points": pytest.approx(seizure_points), "value": True,
    }  # fmt: skip
    assert nomogram["total_points"] == pytest.approx(82.0 + seizure_points)
    assert nomogram["probability"] == pytest.approx(output.probabilities["cvt_related"])
    assert [a["variable"] for a in nomogram["axes"]] == ["dlr_signature", "seizure_at_admission"]
    assert len(nomogram["axes"][0]["ticks"]) == 11
    axis = nomogram["probability_axis"]
    assert [t["total_points"] for t in axis] == sorted(t["total_points"] for t in axis)
    assert nomogram["signatures"]["dlr"] == pytest.approx(0.82)
    features = payload["feature_importance"]["features"]
    assert features[0]["name"] == "wavelet-LHL_glszm_SmallAreaEmphasis"
    importances = [abs(f["importance"]) for f in features]
    assert importances == sorted(importances, reverse=True)
    assert payload["clinical"] == [
        {"name": "seizure_at_admission", "label": "Epilepsy / seizure at admission",
         "kind": "boolean", "unit": "", "value": True},
        {"name": "age", "label": "Age", "kind": "number", "unit": "years", "value": SECRET_AGE},
    ]  # fmt: skip


def test_the_exposure_records_what_was_shown(client):
    reader, unaided, aided, output = _study(**ALL)
    _read_unaided(client, reader, unaided)
    _aided(client, aided)
    shown = aided.exposures.get().shown
    assert shown["nomogram"]["points"] == output.nomogram["points"]
    assert shown["nomogram"]["total_points"] == output.nomogram["total_points"]
    assert shown["nomogram"]["signatures"] == output.signatures
    assert shown["feature_importance"] == [f["name"] for f in output.features]
    assert shown["clinical"] == {"seizure_at_admission": True, "age": SECRET_AGE}


def test_nothing_is_shown_unless_configured(client):
    reader, unaided, aided, _ = _study()
    _read_unaided(client, reader, unaided)
    payload = _aided(client, aided)
    assert not {"nomogram", "feature_importance", "clinical"} & set(payload)
    shown = aided.exposures.get().shown
    assert not {"nomogram", "feature_importance", "clinical"} & set(shown)


def test_only_the_chosen_clinical_variables_are_shown(client):
    reader, unaided, aided, _ = _study(show_clinical=["hypertension"])
    _read_unaided(client, reader, unaided)
    payload = _aided(client, aided)
    assert [row["name"] for row in payload["clinical"]] == ["hypertension"]
    assert payload["clinical"][0]["value"] is False
    text = json.dumps(payload)
    assert '"sex"' not in text and "seizure" not in text and "nomogram" not in text


def test_a_variable_the_case_lacks_is_shown_as_not_recorded(client):
    reader, unaided, aided, _ = _study(show_clinical=["headache"])
    _read_unaided(client, reader, unaided)
    assert _aided(client, aided)["clinical"][0]["value"] is None
    assert aided.exposures.get().shown["clinical"] == {"headache": None}


def test_blinding_none_of_it_reaches_an_unaided_read(client):
    reader, unaided, aided, _ = _study(**ALL)
    client.force_login(reader)
    started = client.post(f"/api/reading/assignments/{unaided.pk}/start/")
    assert started.status_code == 200
    workspace = json.dumps(started.json())
    for word in ("nomogram", "feature_importance", "dlr_signature", "SmallAreaEmphasis"):
        assert word not in workspace, word
    assert "seizure_at_admission" not in workspace
    # the assistance routes answer nothing to the unaided read, nor to the aided one before
    # the unaided lock
    for assignment in (unaided, aided):
        r = client.get(f"/api/reading/assignments/{assignment.pk}/assistance/")
        assert r.status_code == 404
        assert "nomogram" not in r.content.decode()
    assert not aided.exposures.exists()
    services.submit(reader, unaided.pk, ANSWER, client_request_id="u", lock=True)
    again = client.get(f"/api/reading/assignments/{unaided.pk}/assistance/")
    assert again.status_code == 404  # the unaided read itself never shows assistance


def test_the_rows_follow_the_models_axes_not_the_stored_key_order():
    """PostgreSQL's jsonb returns object keys shortest first, so the points mapping cannot
    carry the model's order; the axes list does."""
    from types import SimpleNamespace

    from readerstudy.reading.interpretation import nomogram

    stored = {
        "points": {"sex": 5.0, "dlr_signature": 60.0, "seizure": 12.0},
        "total_points": 77.0,
        "axes": [
            {"variable": "dlr_signature", "ticks": []},
            {"variable": "seizure", "ticks": []},
            {"variable": "sex", "ticks": []},
        ],
    }
    output = SimpleNamespace(nomogram=stored, probabilities={"cvt_related": 0.7}, signatures={})
    part, _ = nomogram(output, "cvt_related")
    assert [v["name"] for v in part["variables"]] == ["dlr_signature", "seizure", "sex"]
    assert [v["points"] for v in part["variables"]] == [60.0, 12.0, 5.0]
