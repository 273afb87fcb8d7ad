"""A seed-001 study whose model is the DLRN, in Debian chromium (1366 x 768): the unaided read
shows nothing of the model or the clinical data; after the lock the aided view draws the
nomogram with this case's points and its total on the probability axis, the feature-importance
chart and the clinical table of the chosen variables. The coordinator's page offers the three
settings.

The output is the DLRN's ``result.json`` stored through the runner's checks
(``tests.dlrn_outputs``).
"""

from pathlib import Path

import pytest
from django.core.management import call_command

from readerstudy.cases.models import Case, ClinicalRecord
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Design
from tests.browser.helpers import login, open_reading
from tests.dlrn_outputs import FEATURES, dlrn_version, make_dlrn_output
from tests.factories import CoordinatorFactory, ReaderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/shots/nomoview")
CLINICAL = {"age": 38.0, "sex": "F", "seizure_at_admission": True, "hypertension": False}


def _world(tmp_path):
    from phantoms import generate_dataset

    generate_dataset(tmp_path / "ph", 1, 7, matrix=128)
    call_command("import_cases", str(tmp_path / "ph"), "--no-progress")
    case = Case.objects.get()
    ClinicalRecord.objects.create(case=case, values=CLINICAL)
    version = dlrn_version()
    output = make_dlrn_output(case, version, dlr=0.82, seizure=True)
    study = study_services.create_study(
        title="Seed 001 DLRN", design=Design.SEQUENTIAL_PER_CASE, preset="seed001",
        randomization_seed=1,
    )  # fmt: skip
    study_services.add_cases(study, [case])
    reader = ReaderFactory()
    study_services.enroll_reader(study, reader)
    study_services.configure_assistance(
        study, model_version=version, operating_point="default", heatmaps=[],
        show_mask_outline=False, show_nomogram=True, show_feature_importance=True,
        show_clinical=["seizure_at_admission", "age", "headache"],
    )  # fmt: skip
    return study_services.open_study(study, truth_pending_allowed=True), reader, output


def _x(page, selector: str) -> float:
    return float(page.locator(selector).get_attribute("cx"))


def test_the_aided_view_draws_the_dlrn_nomogram_features_and_clinical(live_server, page, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    study, reader, output = _world(tmp_path)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    login(page, live_server, reader)
    open_reading(page, live_server, study, "diagnosis")
    # unaided: nothing of the model or the clinical data
    for testid in ("nomogram", "feature-chart", "clinical-table"):
        assert page.locator(f"[data-testid={testid}]").count() == 0
    assert "Epilepsy" not in page.content() and not [u for u in requests if "/assistance" in u]
    page.locator('input[name="diagnosis"][value="other"]').check()
    page.locator("input[type=number][name=confidence]").fill("30")
    page.click("#rs-submit")
    page.wait_for_function(
        "() => window.readerstudyWorkspace.assistanceShown === true", timeout=60000
    )
    page.evaluate("() => { const h = document.getElementById('rs-help'); if (h) h.open = false; }")
    nomogram = page.locator("[data-testid=nomogram]")
    nomogram.wait_for(state="visible")
    labels = nomogram.locator(".rs-nomo-label").all_text_contents()
    assert labels == [
        "Points", "DLR signature", "Epilepsy / seizure at admission", "Total points", "Probability"
    ]  # fmt: skip
    # the case's points sit where the points axis puts them: x is linear in the points
    points = output.nomogram["points"]
    x0 = float(nomogram.locator(".rs-nomo-points .rs-nomo-tick").first.get_attribute("x1"))
    x100 = float(nomogram.locator(".rs-nomo-points .rs-nomo-tick").last.get_attribute("x1"))
    for name in points:
        expected = x0 + (x100 - x0) * points[name] / 100.0
        assert _x(page, f"[data-testid=nomogram-mark-{name}]") == pytest.approx(expected, abs=0.01)
    total_x = _x(page, "[data-testid=nomogram-mark-total]")
    assert _x(page, "[data-testid=nomogram-mark-probability]") == pytest.approx(total_x)
    probability = output.probabilities["cvt_related"]
    assert f"{probability * 100:.1f}%" in nomogram.text_content()
    assert f"{output.nomogram['total_points']:.1f}" in nomogram.text_content()
    assert "DLR 82.0%" in page.locator("[data-testid=signatures]").inner_text()
    chart = page.locator("[data-testid=feature-chart]")
    names = chart.locator(".rs-feature-name").all_text_contents()
    assert names == [n for n, _, _ in sorted(FEATURES, key=lambda f: -abs(f[2]))]
    widths = [
        float(w)
        for w in chart.locator("rect").evaluate_all("r => r.map(e => e.getAttribute('width'))")
    ]
    peak = max(abs(i) for _, _, i in FEATURES)
    assert widths == pytest.approx(
        [240.0 * abs(i) / peak for *_, i in sorted(FEATURES, key=lambda f: -abs(f[2]))]
    )
    table = page.locator("[data-testid=clinical-table]")
    rows = table.locator("tr")
    assert rows.count() == 3
    assert rows.nth(0).inner_text().split("\t") == ["Epilepsy / seizure at admission", "yes"]
    assert rows.nth(1).inner_text().split("\t") == ["Age", "38 years"]
    assert rows.nth(2).inner_text().split("\t") == ["Headache", "not recorded"]
    assert "Sex" not in table.inner_text()  # not chosen, never shown
    page.screenshot(path=str(SHOTS / "aided-nomogram.png"))
    page.locator("[data-testid=nomogram-panel]").screenshot(path=str(SHOTS / "nomogram-panel.png"))
    page.locator("[data-testid=nomogram-panel] > summary").click()  # fold: the chart and table
    page.screenshot(path=str(SHOTS / "aided-features-clinical.png"))
    page.locator("[data-testid=feature-panel]").screenshot(path=str(SHOTS / "feature-panel.png"))
    page.locator("[data-testid=feature-panel] > summary").click()
    page.locator("[data-testid=clinical-panel]").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "aided-clinical.png"))
    page.locator("[data-testid=clinical-panel]").screenshot(path=str(SHOTS / "clinical-panel.png"))


def test_the_coordinator_page_offers_the_settings(live_server, page):
    coordinator = CoordinatorFactory()
    dlrn_version()
    study = study_services.create_study(
        title="Seed 001 draft", design=Design.SEQUENTIAL_PER_CASE, preset="seed001",
        randomization_seed=2,
    )  # fmt: skip
    SHOTS.mkdir(parents=True, exist_ok=True)
    login(page, live_server, coordinator)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/studies/{study.pk}/#study-conditions")
    details = page.locator("#condition-aided")
    details.locator("summary").click()
    form = details.locator("form")
    form.locator("select[name=c-aided-model_version]").select_option(label=str(dlrn_version()))
    form.locator("input[name=c-aided-operating_point]").fill("default")
    form.locator("input[name=c-aided-show_nomogram]").check()
    form.locator("input[name=c-aided-show_feature_importance]").check()
    form.locator("input[name=c-aided-show_clinical][value=seizure_at_admission]").check()
    form.locator("input[name=c-aided-show_clinical][value=age]").check()
    form.locator("input[name=c-aided-show_nomogram]").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "coordinator-config.png"))
    form.locator("button[type=submit]").click()
    page.wait_for_selector("text=Condition “Aided” saved.")
    row = page.locator('#condition-list tr[data-code="aided"]')
    # the form lists the variables in the catalogue's order
    assert "nomogram · feature importance · clinical age, seizure_at_admission" in row.inner_text()
    config = study.conditions.get(code="aided").assistance
    assert config.show_clinical == ["age", "seizure_at_admission"] and config.show_nomogram
