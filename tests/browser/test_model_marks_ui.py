"""The condition editor offers the model's marks (Debian chromium, 1366 x 768): a coordinator
adds an aided condition showing them and the condition list says so."""

import pytest

from readerstudy.cases.models import GroundTruth
from readerstudy.studies import services
from tests.browser.helpers import login
from tests.factories import (
    CoordinatorFactory,
    ModelVersionFactory,
    ReaderFactory,
    cases_with_series,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_coordinator_shows_the_model_marks_in_a_condition(page, live_server, artifacts):
    model = ModelVersionFactory()
    study = services.create_study(title="FROC marks", design="crossover", randomization_seed=3)
    services.configure_assistance(study, model_version=model, heatmaps=[])
    cases = cases_with_series(2)
    for case in cases:
        GroundTruth.objects.create(case=case, etiology="sich")
    services.add_cases(study, cases)
    services.enroll_reader(study, ReaderFactory())
    user = CoordinatorFactory()
    login(page, live_server, user)
    page.goto(f"{live_server.url}/studies/{study.pk}/")
    page.click("#condition-add summary")
    form = page.locator("#condition-add form")
    form.locator("#id_new-name").fill("Model marks")
    form.locator("#id_new-model_version").select_option(str(model.pk))
    box = form.locator("#id_new-show_model_marks")
    assert not box.is_checked()
    box.check()
    form.locator("#id_new-show_model_marks").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "model-marks-form.png"))
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    added = study.conditions.get(code="model_marks").assistance
    assert added.show_model_marks is True
    row = page.locator('#condition-list tbody tr[data-code="model_marks"]')
    assert "model marks" in row.inner_text()
    page.locator("#study-conditions").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "model-marks-conditions.png"))
