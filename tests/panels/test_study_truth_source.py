"""A reader study takes its truth from a finished panel or from imports, and records which."""

import pytest

from readerstudy.cases.models import GroundTruth
from readerstudy.exports.study_endpoints import truths_by_case
from readerstudy.panels import services
from readerstudy.studies import selectors
from readerstudy.studies import services as study_services
from readerstudy.studies.errors import ProtocolConflict, StudyError, TruthMissing
from readerstudy.studies.models import Design
from readerstudy.studies.serializers import StudySerializer
from readerstudy.studies.truth_source import set_truth_source
from tests.factories import PASSWORD, ModelVersionFactory, ReaderFactory

from .conftest import annotate_all

pytestmark = pytest.mark.django_db


def _study(cases):
    study = study_services.create_study(
        title="ICH location", design=Design.UNAIDED_ONLY, randomization_seed=5, preset="seed003"
    )
    study_services.add_cases(study, cases)
    study_services.enroll_reader(study, ReaderFactory())
    study_services.configure_assistance(study, model_version=ModelVersionFactory())
    return study


def _finished(world):
    annotate_all(world)
    case1 = world["cases"][1].code
    services.adjudicate(world["adjudicator"], world["panel"].pk, case1, "location", "deep")
    return services.finalize(world["coordinator"], world["panel"].pk)


def test_an_unfinished_panel_cannot_be_the_truth(panel_world):
    world = panel_world(labels=("ich_present", "location"))
    study = _study(world["cases"])
    with pytest.raises(StudyError, match="not finalized") as exc:
        set_truth_source(study, world["panel"].pk)
    assert exc.value.code == "panel_not_finished"
    with pytest.raises(StudyError, match="no truth panel"):
        set_truth_source(study, 99999)
    study.refresh_from_db()
    assert study.truth_panel_id is None and study.truth_source == "import"


def test_the_study_is_scored_on_the_panel_not_on_imported_truth(panel_world):
    world = panel_world(labels=("ich_present", "location"))
    case0, case1 = world["cases"]
    GroundTruth.objects.create(case=case0, ich_present=False, location="")  # imported: differs
    study = _study(world["cases"])
    with pytest.raises(TruthMissing):  # imports: case 1 has no truth
        study_services.open_study(study, truth_pending_allowed=False)
    panel = _finished(world)
    set_truth_source(study, panel.pk)
    study.refresh_from_db()
    assert study.truth_source == "panel"
    assert selectors.missing_truth(study) == {}
    truths = truths_by_case(study)
    assert (truths[case0.pk].ich_present, truths[case0.pk].location) == (True, "lobar")
    assert (truths[case1.pk].ich_present, truths[case1.pk].location) == (True, "deep")
    assert truths[case0.pk].case.code == case0.code
    study = study_services.open_study(study, truth_pending_allowed=False)
    recorded = StudySerializer(study).data["truth_source"]
    assert recorded["source"] == "panel" and recorded["panel"] == panel.pk
    assert recorded["panel_title"] == "ICH panel"
    with pytest.raises(ProtocolConflict, match="fixed once the study is opened"):
        set_truth_source(study, None)


def test_the_study_page_shows_and_sets_the_truth_source(client, panel_world):
    world = panel_world(labels=("ich_present", "location"))
    panel = _finished(world)
    study = _study(world["cases"])
    assert client.login(username=world["coordinator"].username, password=PASSWORD)
    page = client.get(f"/studies/{study.pk}/").content.decode()
    assert "Truth from <strong>imported labels</strong>" in page
    assert f'<option value="{panel.pk}">panel: ICH panel</option>' in page
    client.post(f"/studies/{study.pk}/truth-source/", {"panel": str(panel.pk)})
    page = client.get(f"/studies/{study.pk}/").content.decode()
    assert "the truth panel <strong>ICH panel</strong>" in page
    assert "ICH location" in client.get(f"/panels/{panel.pk}/").content.decode()
    client.post(f"/studies/{study.pk}/truth-source/", {"panel": "x"})
    study.refresh_from_db()
    assert study.truth_panel_id == panel.pk
