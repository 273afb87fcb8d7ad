"""A truth panel in Debian chromium: the coordinator creates it, three annotators label the
case in the viewer, the adjudicator decides their disagreement, the coordinator finalizes it
and a reader study takes its truth from the panel."""

from pathlib import Path

import pytest

from readerstudy.cases.ingest import import_study
from readerstudy.panels.models import Panel, PanelTruth
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Design
from tests.browser.helpers import login as _login
from tests.factories import (
    AdjudicatorFactory,
    AnnotatorFactory,
    CoordinatorFactory,
    ModelVersionFactory,
    ReaderFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots/panel")


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


def test_three_annotators_an_adjudication_and_a_study_on_the_panel(live_server, page, tmp_path):
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "ph", 1, 5, matrix=128, positive_fraction=1.0)
    case = import_study(tmp_path / "ph" / records[0]["case_id"]).case
    annotators = [AnnotatorFactory() for _ in range(3)]
    adjudicator, coordinator = AdjudicatorFactory(), CoordinatorFactory()

    _login(page, live_server, coordinator)
    page.goto(f"{live_server.url}/panels/new/")
    page.fill("#id_title", "Location panel")
    page.check("input[name=labels][value=location]")
    page.select_option("#id_cases", [str(case.pk)])
    for user in annotators:
        page.check(f"input[name=annotators][value='{user.pk}']")
    page.select_option("#id_adjudicator", str(adjudicator.pk))
    _shot(page, "01-panel-create.png")
    page.click("#panel-form button[type=submit]")
    page.wait_for_selector("#panel-status")
    panel = Panel.objects.get()

    for user, (present, location) in zip(
        annotators, [("yes", "lobar"), ("yes", "deep"), ("no", "")], strict=True
    ):
        _login(page, live_server, user)
        page.goto(f"{live_server.url}/panels/{panel.pk}/annotate/{case.code}/")
        page.wait_for_selector("#pn-viewer canvas, #pn-viewer .rsv-viewport", timeout=30000)
        page.check(f"input[name=ich_present][value={present}]")
        if present == "yes":
            page.check("input[name=subtypes][value=iph]")
        page.select_option("#id_location", location)
        if user == annotators[0]:
            page.wait_for_timeout(1500)
            _shot(page, "02-annotator-page.png")
        page.click("#annotation-form button[type=submit]")
        page.wait_for_selector("#annotate-cases")
    panel.refresh_from_db()
    assert panel.status == Panel.Status.ADJUDICATING

    _login(page, live_server, adjudicator)
    page.goto(f"{live_server.url}/panels/{panel.pk}/adjudicate/{case.code}/")
    assert "lobar" in page.locator("#item-location").inner_text()
    assert not any(u.username in page.content() for u in annotators)
    page.select_option("#id-item-location", "deep")
    page.wait_for_timeout(1500)
    _shot(page, "03-adjudication-page.png")
    page.click("#adjudication-form button[type=submit]")
    page.wait_for_selector("#adjudicate-cases")

    _login(page, live_server, coordinator)
    page.goto(f"{live_server.url}/panels/{panel.pk}/")
    page.click("#panel-finalize")
    page.wait_for_selector("text=finalized")
    page.goto(f"{live_server.url}/panels/{panel.pk}/report/")
    assert "adjudicated" in page.locator("#panel-table").inner_text()
    _shot(page, "04-panel-report.png")
    truth = PanelTruth.objects.get(panel=panel)
    assert (truth.ich_present, truth.location) == (True, "deep")
    assert truth.provenance["location"]["method"] == "adjudication"

    study = study_services.create_study(
        title="Study on the panel", design=Design.UNAIDED_ONLY, randomization_seed=2,
        preset="seed003",
    )  # fmt: skip
    study_services.add_cases(study, [case])
    study_services.enroll_reader(study, ReaderFactory())
    study_services.configure_assistance(study, model_version=ModelVersionFactory())
    page.goto(f"{live_server.url}/studies/{study.pk}/")
    page.select_option("#id_truth_panel", str(panel.pk))
    page.click("#truth-source-form button[type=submit]")
    page.wait_for_selector("#truth-source >> text=Location panel")
    assert page.locator("#unlabelled-cases").count() == 0
    page.locator("#truth-source").scroll_into_view_if_needed()
    _shot(page, "05-study-truth-from-panel.png")
