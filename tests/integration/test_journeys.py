"""A new team's first study, end to end in Debian chromium, on a live server with a real worker.

The coordinator uploads zips and their labels CSV in the case library, creates the readers,
builds and corrects the study in the coordinator pages, runs the model and opens the study;
a reader created that way reads unaided then aided; the statistician runs the analysis and
opens the HTML report, which has Table 2 with the model's ROC curve and Table 3.
"""

import io
import zipfile

import pandas as pd
import pytest
from django.core.management import call_command

from readerstudy.ai.models import InferenceJob, ModelVersion
from readerstudy.cases.models import Case, GroundTruth
from readerstudy.exports.models import AnalysisRun
from readerstudy.reading import services as reading
from readerstudy.reading.assistance import assistance_payload
from readerstudy.studies.models import Assignment, ReaderStudy
from tests.browser.test_coordinator_ui import MISALIGNED_BOXES
from tests.conftest import wait_for
from tests.factories import PASSWORD, CoordinatorFactory, StatisticianFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
N_CASES = 4


@pytest.fixture
def phantoms(tmp_path):
    """Four small phantom studies (two of each class) as zips, and their labels CSV."""
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "ph", N_CASES, 21, matrix=128, positive_fraction=0.5)
    assert {r["label"] for r in records} == {"cvst_ich", "sich"}
    zips = []
    for record in records:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            for p in sorted((tmp_path / "ph" / record["case_id"]).glob("*.dcm")):
                zf.write(p, f"{record['case_id']}/{p.name}")
        path = tmp_path / f"{record['case_id']}.zip"
        path.write_bytes(buffer.getvalue())
        zips.append(path)
    return zips, tmp_path / "ph" / "labels.csv"


def _login(page, url, username, password=PASSWORD):
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)  # signed in, home loaded


def _coordinator_builds_the_study(page, url, zips, labels, artifacts) -> tuple[int, list]:
    _login(page, url, CoordinatorFactory().username)
    # 8. A navigation bar with the coordinator's pages.
    nav = page.locator("nav").inner_text()
    assert all(item in nav for item in ("Cases", "Studies", "Readers", "Exports"))

    page.click("nav >> text=Cases")
    for path in zips:
        page.set_input_files("#files", str(path))
        page.fill("#collection", "Journey cohort")
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#upload-case", timeout=120000)
        assert "Imported case" in page.locator("#upload-result").inner_text()
        page.goto(f"{url}/cases/")
    # 10. The same study again says so.
    page.set_input_files("#files", str(zips[0]))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#upload-case", timeout=120000)
    assert "was already in the library" in page.locator("#upload-result").inner_text()
    page.goto(f"{url}/cases/")
    # 1. Labels in the web UI.
    page.set_input_files("#id_file", str(labels))
    page.click("#labels-form button[type=submit]")
    page.wait_for_selector(".messages li")
    assert f"Labels for {N_CASES} cases stored" in page.locator(".messages").inner_text()
    assert GroundTruth.objects.count() == N_CASES
    page.screenshot(path=str(artifacts / "journey-01-case-library.png"), full_page=True)

    # 6. Readers created by the coordinator.
    passwords = []
    for name, specialty, years in (
        ("dr.ada", "neuroradiologist", "12"),
        ("dr.bo", "emergency", "3"),
    ):
        page.click("nav >> text=Readers")
        page.click("#add-reader")
        page.fill("#id_username", name)
        page.select_option("#id_specialty", specialty)
        page.fill("#id_years_experience", years)
        page.click("text=Create reader")
        passwords.append((name, page.locator("#initial-password").inner_text().strip()))

    page.click("nav >> text=Studies")
    page.fill("#id_title", "Journey study")
    page.select_option("#id_design", "sequential")
    page.click("text=Create study")
    study = ReaderStudy.objects.get(title="Journey study")
    cases = list(Case.objects.order_by("code"))
    for case in cases:
        page.check(f'#case-form input[value="{case.pk}"]')
    page.click("text=Save case selection")
    # 7. Unticking removes.
    page.uncheck(f'#case-form input[value="{cases[0].pk}"]')
    page.click("text=Save case selection")
    assert study.study_cases.count() == N_CASES - 1
    page.check(f'#case-form input[value="{cases[0].pk}"]')
    page.click("text=Save case selection")
    assert study.study_cases.count() == N_CASES
    for name, _ in passwords:
        page.check(f"#reader-form label:has-text('{name}') input")
    page.click("text=Save reader selection")
    model = ModelVersion.objects.get(model_id="cvst_ich_demo")
    page.click("#condition-aided summary")  # the aided condition's assistance settings
    page.select_option("#id_c-aided-model_version", str(model.pk))
    for method in ("ig", "shap", "occlusion", "cbam"):
        page.uncheck(f'input[name="c-aided-heatmaps"][value="{method}"]')
    page.check('input[name="c-aided-heatmaps"][value="gradcampp"]')
    page.click("text=Save Aided")
    assert "Condition “Aided” saved." in page.locator(".messages").inner_text()
    # 3. Every box beside its own label.
    assert page.evaluate(MISALIGNED_BOXES) == []
    page.screenshot(path=str(artifacts / "journey-02-draft.png"), full_page=True)

    page.click("text=Run the model on all cases")
    wait_for(
        lambda: InferenceJob.objects.filter(status="succeeded").count() == N_CASES,
        timeout=600,
        interval=2,
        message="the model's jobs on the worker",
    )
    page.click("text=Open study (freezes the design)")
    assert page.locator("#study-status").inner_text() == "open"
    assert page.locator('#model-jobs tr[data-status="succeeded"]').count() == N_CASES
    page.screenshot(path=str(artifacts / "journey-03-open.png"), full_page=True)
    return study.pk, passwords


def _reader_reads(page, url, username, password, artifacts):
    _login(page, url, username, password)
    # 8. A reader opening the case library gets a 403 page, not the sign-in form.
    page.goto(f"{url}/cases/")
    assert "signed in as a reader" in page.content()
    page.goto(f"{url}/read/")
    page.click("text=Start reading")
    page.wait_for_function(
        "() => window.readerstudyWorkspace && window.readerstudyWorkspace.assignment",
        timeout=60000,
    )
    # 9. An unanswered scale does not look answered; the help panel is open.
    assert "unset" in page.locator("input[type=range]").get_attribute("class")
    assert page.locator("#rs-help").get_attribute("open") is not None
    page.get_by_role("radio", name="CVST-related ICH").check()
    page.locator("input[type=number][name=confidence]").fill("70")
    page.click("#rs-submit")
    page.wait_for_function(
        "() => window.readerstudyWorkspace.assistanceShown === true", timeout=60000
    )
    assistance = page.locator("#rs-assistance").inner_text()
    assert "probability of CVST-ICH" in assistance
    # 9. The model's call by its display name, not its code.
    call = page.locator("#rs-assistance .call").inner_text()
    assert "sich" not in call.split(":")[-1] and "cvst_ich" not in call
    page.screenshot(path=str(artifacts / "journey-04-aided.png"))
    page.get_by_role("radio", name="Spontaneous ICH").check()
    page.click("#rs-submit")
    page.wait_for_function(
        "() => window.readerstudyWorkspace.assignment"
        " && window.readerstudyWorkspace.assignment.condition === 'unaided'",
        timeout=60000,
    )


def _finish_the_reads(study_pk):
    """The rest of the reads through the reading services the page calls."""
    for a in Assignment.objects.filter(study_id=study_pk).order_by("reader_id", "position"):
        if a.state == Assignment.State.LOCKED:
            continue
        user = a.reader.user
        reading.start(user, a.pk)
        if a.condition == "aided":
            assistance_payload(user, a.pk, url_for=lambda *args: "/x")
        case_truth = a.study_case.case.ground_truth.etiology
        answer = {
            "diagnosis": case_truth if a.position % 3 else "sich",
            "confidence": 80 if case_truth == "cvst_ich" else 25 + a.position,
        }
        reading.submit(user, a.pk, answer, client_request_id=f"j{a.pk}", lock=True)


def _statistician_reads_the_report(page, url, study_pk, artifacts):
    _login(page, url, StatisticianFactory().username)
    page.click("nav >> text=Exports")
    page.click("text=Run analysis")
    wait_for(
        lambda: (
            AnalysisRun.objects.filter(study_id=study_pk, status="succeeded").exists()
            or AnalysisRun.objects.filter(study_id=study_pk, status="failed").exists()
        ),
        timeout=300,
        interval=1,
        message="the analysis on the worker",
    )
    run = AnalysisRun.objects.get(study_id=study_pk)
    assert run.status == "succeeded", run.error
    # 5. The page refreshes itself; once done it offers the report.
    page.wait_for_selector("text=Open the report", timeout=30000)
    page.screenshot(path=str(artifacts / "journey-05-analysis.png"))
    with page.context.expect_page() as opened:
        page.click("text=Open the report")
    report = opened.value
    report.wait_for_load_state()
    html = report.content()
    report.screenshot(path=str(artifacts / "journey-06-report.png"), full_page=True)
    # 4. Table 2 and the model ROC curve from the study's model outputs; 5. the header.
    assert "Table 2" in html and "Table 3" in html
    assert "Model ROC curve" in html and "data:image/png;base64," in html
    head = report.locator("table.meta").inner_text()
    assert "Journey study" in head and "cvst_ich_demo" in head and "Software" in head
    assert "-0.0000" not in html and "vs classification model" not in html
    # 10. READS CSV integers as integers.
    csv = page.evaluate(
        f"async () => (await fetch('/api/exports/studies/{study_pk}/reads/csv/')).text()"
    )
    frame = pd.read_csv(io.StringIO(csv), dtype=str, keep_default_na=False)
    humans = frame[frame["condition"] != "model"]
    assert not humans["session"].str.contains(r"\.").any()
    assert not humans["years_experience"].str.contains(r"\.").any()


def test_a_new_team_runs_its_first_study(live_server, browser, phantoms, worker_factory, artifacts):
    call_command("register_models", verbosity=0)
    worker_factory(name="journey")
    zips, labels = phantoms
    url = live_server.url
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        page = context.new_page()
        study_pk, readers = _coordinator_builds_the_study(page, url, zips, labels, artifacts)
        context.clear_cookies()
        _reader_reads(page, url, *readers[0], artifacts)
        _finish_the_reads(study_pk)
        study = ReaderStudy.objects.get(pk=study_pk)
        assert not Assignment.objects.filter(study=study).exclude(state="locked").exists()
        context.clear_cookies()
        _login(page, url, CoordinatorFactory().username)
        page.goto(f"{url}/studies/{study_pk}/")
        page.click("text=Close study")
        assert page.locator("#study-status").inner_text() == "closed"
        context.clear_cookies()
        _statistician_reads_the_report(page, url, study_pk, artifacts)
    finally:
        context.close()
