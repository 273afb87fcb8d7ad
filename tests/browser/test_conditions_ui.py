"""A draft's conditions in Debian chromium (1366 x 768): add an aided condition with its
assistance, move it, then the frozen page lists the three conditions."""

import pytest

from readerstudy.cases.models import GroundTruth
from readerstudy.studies import services
from readerstudy.studies.models import ReaderStudy
from tests.browser.helpers import add_probability_only_condition, login
from tests.factories import (
    CoordinatorFactory,
    ModelVersionFactory,
    ReaderFactory,
    cases_with_series,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_coordinator_adds_moves_and_freezes_three_conditions(page, live_server, artifacts):
    model = ModelVersionFactory()
    study = services.create_study(
        title="Three conditions", design="crossover", randomization_seed=3
    )
    services.configure_assistance(study, model_version=model, heatmaps=["gradcampp", "ig"])
    cases = cases_with_series(3)
    for case in cases:
        GroundTruth.objects.create(case=case, etiology="sich")
    services.add_cases(study, cases)
    services.enroll_reader(study, ReaderFactory())
    login(page, live_server, CoordinatorFactory())
    page.goto(f"{live_server.url}/studies/{study.pk}/")
    add_probability_only_condition(page, model)
    assert "Condition “Probability only” added." in page.content()
    added = study.conditions.get(code="probability_only").assistance
    assert (added.model_version, added.show_decision, added.heatmaps) == (model, False, [])
    rows = page.locator("#condition-list tbody tr")
    assert rows.count() == 3
    with page.expect_navigation():
        page.click('button[aria-label="Move Probability only up"]')
    codes = page.locator("#condition-list tbody tr").evaluate_all(
        "rs => rs.map(r => r.dataset.code)"
    )
    assert codes == ["unaided", "probability_only", "aided"]
    page.click("#condition-aided summary")
    page.locator("#study-conditions").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "conditions-draft.png"))
    page.locator("#study-conditions").screenshot(path=str(artifacts / "conditions-section.png"))

    with page.expect_navigation():
        page.click("#open-study button[type=submit]")
    study.refresh_from_db()
    assert study.status == ReaderStudy.Status.OPEN
    table = page.locator("#study-conditions")
    assert table.locator("tbody tr").count() == 3
    assert "Probability only" in table.inner_text() and "nothing is shown" in table.inner_text()
    page.locator("#frozen-conditions").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "conditions-frozen.png"))
    arms = page.locator("#study-arms").inner_text()
    assert all(arm in arms for arm in ("ABC", "BCA", "CAB"))
