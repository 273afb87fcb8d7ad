"""Reading a study of three conditions: unaided, then two aided conditions per case."""

import pytest

from readerstudy.reading import services
from readerstudy.reading.assistance import assistance_payload, assistance_volume
from readerstudy.reading.models import AssistanceExposure
from readerstudy.reading.selectors import next_assignment
from readerstudy.studies import services as study_services
from readerstudy.studies.errors import NotAvailable, ProtocolConflict
from readerstudy.studies.models import Assignment, Design
from tests.factories import (
    ModelVersionFactory,
    ReaderFactory,
    cases_with_series,
    make_inference_output,
)

pytestmark = pytest.mark.django_db
ANSWER = {"diagnosis": "cvst_ich", "confidence": 80}


def _url(kind, assignment_id, method=None, label=None):
    return f"/{kind}/{assignment_id}/{method}"


@pytest.fixture
def three(db):
    """A sequential study: unaided; a probability without maps (model A); Grad-CAM++ maps and a
    decision at high specificity (model B)."""
    model_a = ModelVersionFactory(version="1.0.0")
    model_b = ModelVersionFactory(version="2.0.0")
    study = study_services.create_study(
        title="three", design=Design.SEQUENTIAL_PER_CASE, randomization_seed=11,
        conditions=[
            {"code": "unaided", "name": "Unaided"},
            {"code": "probability", "name": "Probability", "assistance": {
                "model_version": model_a, "heatmaps": [], "show_decision": False,
                "show_mask_outline": False}},
            {"code": "maps", "name": "Maps", "assistance": {
                "model_version": model_b, "heatmaps": ["gradcampp"], "show_probability": False,
                "operating_point": "high_specificity"}},
        ],
    )  # fmt: skip
    study_services.add_cases(study, cases_with_series(2))
    reader = ReaderFactory()
    study_services.enroll_reader(study, reader)
    study = study_services.open_study(study, truth_pending_allowed=True)
    case = Assignment.objects.filter(study=study).order_by("position")[0].study_case.case
    make_inference_output(case, model_a)
    make_inference_output(case, model_b)
    return study, reader, (model_a, model_b)


def _read(reader, assignment, request_id):
    services.start(reader, assignment.pk)
    if assignment.condition != "unaided":
        assistance_payload(reader, assignment.pk, url_for=_url)
    services.submit(reader, assignment.pk, ANSWER, client_request_id=request_id, lock=True)


def test_the_second_aided_read_waits_for_the_first(three):
    study, reader, _ = three
    unaided, probability, maps = Assignment.objects.filter(study=study).order_by("position")[:3]
    assert [a.condition for a in (unaided, probability, maps)] == [
        "unaided", "probability", "maps",
    ]  # fmt: skip
    assert (probability.prerequisite_id, maps.prerequisite_id) == (unaided.pk, probability.pk)
    _read(reader, unaided, "u")
    with pytest.raises(ProtocolConflict, match="lock the previous read"):
        services.start(reader, maps.pk)
    assert next_assignment(reader, study.pk) == (probability, None)
    services.start(reader, probability.pk)
    with pytest.raises(NotAvailable):  # not started: its assistance is not served either
        assistance_payload(reader, maps.pk, url_for=_url)
    assistance_payload(reader, probability.pk, url_for=_url)
    services.submit(reader, probability.pk, ANSWER, client_request_id="p", lock=False)
    with pytest.raises(ProtocolConflict, match="lock the previous read"):
        services.start(reader, maps.pk)  # submitted is not enough: it waits for the lock
    services.lock(reader, probability.pk)
    assert next_assignment(reader, study.pk) == (maps, None)
    _read(reader, maps, "m")
    maps.refresh_from_db()
    assert maps.state == Assignment.State.LOCKED


def test_each_aided_read_shows_its_own_conditions_assistance(three):
    study, reader, (model_a, model_b) = three
    unaided, probability, maps = Assignment.objects.filter(study=study).order_by("position")[:3]
    _read(reader, unaided, "u")
    services.start(reader, probability.pk)
    shown = assistance_payload(reader, probability.pk, url_for=_url)
    assert "probability" in shown and "decision" not in shown and "mask" not in shown
    assert shown["heatmaps"] == [] and shown["model"]["version"] == "1.0.0"
    with pytest.raises(NotAvailable):  # model A's condition shows no Grad-CAM++ map
        assistance_volume(reader, probability.pk, "heatmap", "gradcampp")
    services.submit(reader, probability.pk, ANSWER, client_request_id="p", lock=True)
    services.start(reader, maps.pk)
    shown = assistance_payload(reader, maps.pk, url_for=_url)
    assert "probability" not in shown and shown["model"]["version"] == "2.0.0"
    assert shown["decision"]["operating_point"] == "high_specificity"
    assert [h["method"] for h in shown["heatmaps"]] == ["gradcampp"]
    assert shown["heatmaps"][0]["url"] == f"/heatmap/{maps.pk}/gradcampp"
    descriptor, data = assistance_volume(reader, maps.pk, "heatmap", "gradcampp")
    assert data
    exposures = {e.assignment_id: e for e in AssistanceExposure.objects.all()}
    assert exposures[probability.pk].model_version == model_a
    assert exposures[maps.pk].model_version == model_b
    assert exposures[maps.pk].shown["heatmaps"] == ["gradcampp"]
    with pytest.raises(NotAvailable):  # an unaided read shows nothing
        assistance_payload(reader, unaided.pk, url_for=_url)
