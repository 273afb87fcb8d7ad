"""The reader's workspace in Debian chromium against a live server (no browser download)."""

import io

import numpy as np
import pytest
from PIL import Image

from readerstudy.cases.ingest import import_study
from readerstudy.reading.models import AnswerRevision
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Assignment, Design
from tests.browser.helpers import login
from tests.factories import ModelVersionFactory, ReaderFactory, make_inference_output

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _build_world(tmp_path, *, matrix=256, with_output=True):
    """One imported phantom case in an open sequential study with one reader; the model's
    output for the case exists unless ``with_output`` is False (its job has not run)."""
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "ph", 1, 5, matrix=matrix, positive_fraction=1.0)
    case = import_study(tmp_path / "ph" / records[0]["case_id"]).case
    model = ModelVersionFactory()
    if with_output:
        _output_for(case, model)
    study = study_services.create_study(
        title="browser", design=Design.SEQUENTIAL_PER_CASE, randomization_seed=1
    )
    study_services.add_cases(study, [case])
    reader = ReaderFactory()
    study_services.enroll_reader(study, reader)
    study_services.configure_assistance(study, model_version=model, heatmaps=["gradcampp", "ig"])
    study = study_services.open_study(study, truth_pending_allowed=True)
    return study, reader, case


def _output_for(case, model) -> None:
    series = case.primary_series
    make_inference_output(
        case,
        model,
        shape=(series.num_slices, series.rows, series.columns),
        methods=("gradcampp", "ig"),
    )


@pytest.fixture
def reading_world(tmp_path):
    return _build_world(tmp_path)


def _open_workspace(page, live_server, reader, study) -> None:
    """Log in as the reader and open the study's reading page."""
    login(page, live_server, reader)
    page.goto(f"{live_server.url}/read/{study.pk}/")


def _pixels(page) -> np.ndarray:
    shot = page.locator("#rs-viewer").screenshot()
    return np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.int16)


def _settle(page, ms: int = 250) -> None:
    """Let the viewer render: two animation frames, then a short pause for the overlay layer."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.wait_for_timeout(ms)


def _viewer_state(page) -> dict:
    return page.evaluate("() => window.readerstudyWorkspace.viewer.getState()")


def test_unaided_lock_then_aided_overlay(live_server, page, reading_world, artifacts):
    study, reader, case = reading_world
    requests_seen: list[str] = []
    page.on("request", lambda r: requests_seen.append(r.url))
    _open_workspace(page, live_server, reader, study)
    page.wait_for_function(
        "() => window.readerstudyWorkspace && window.readerstudyWorkspace.viewer", timeout=30000
    )
    page.wait_for_function(
        "() => window.readerstudyWorkspace.viewer.getState().timings.firstImageMs != null",
        timeout=30000,
    )
    assert page.locator("#rs-case").inner_text() == f"Case {case.code}"
    page.screenshot(path=str(artifacts / "01-unaided-first-image.png"))
    first = _pixels(page)
    assert first.std() > 5  # an image is rendered, not a blank canvas

    # Wheel scroll changes the slice.
    before = _viewer_state(page)["slice"]
    page.locator("#rs-viewer").hover()
    page.mouse.wheel(0, 300)
    page.wait_for_function(
        f"() => window.readerstudyWorkspace.viewer.getState().slice !== {before}", timeout=10000
    )
    # A window/level preset changes the pixels.
    base = _pixels(page)
    page.locator("button[data-preset]").nth(3).click()
    _settle(page)
    assert np.abs(_pixels(page) - base).mean() > 1.0
    page.locator("button[data-preset]").nth(0).click()
    _settle(page)

    # Nothing of the assistance was requested before the unaided lock.
    assert not [u for u in requests_seen if "/assistance" in u]
    html = page.content()
    assert "0.8125" not in html and "81.2%" not in html

    # Answer with the keyboard-reachable form and lock.
    page.get_by_role("radio", name="CVST-related ICH").check()
    page.locator("input[type=number][name=confidence]").fill("35")
    page.click("#rs-submit")
    page.wait_for_function(
        "() => window.readerstudyWorkspace.assistanceShown === true", timeout=30000
    )
    assert [u for u in requests_seen if "/assistance" in u]
    assert "probability of CVST-ICH" in page.locator("#rs-assistance").inner_text()
    _settle(page)
    page.screenshot(path=str(artifacts / "02-aided-overlay.png"))
    with_overlay = _pixels(page)
    page.evaluate(
        "() => { const v = window.readerstudyWorkspace.viewer; v.setOverlayVisible('gradcampp', false); v.setMaskVisible(false); }"
    )
    _settle(page)
    without = _pixels(page)
    page.screenshot(path=str(artifacts / "03-overlay-off.png"))
    assert np.abs(with_overlay - without).mean() > 1.0  # the overlay changed the pixels
    # Toggling off restores the image as it was before the overlay (same slice, same preset).
    page.evaluate(
        "() => { const v = window.readerstudyWorkspace.viewer; v.setOverlayVisible('gradcampp', true); }"
    )
    _settle(page)
    page.evaluate(
        "() => { const v = window.readerstudyWorkspace.viewer; v.setOverlayVisible('gradcampp', false); }"
    )
    _settle(page)
    assert np.abs(_pixels(page) - without).max() == 0

    # Aided answer saved and visible through the API.
    page.get_by_role("radio", name="Spontaneous ICH").check()
    page.locator("input[type=number][name=confidence]").fill("20")
    page.click("#rs-submit")
    page.wait_for_function(
        "() => document.querySelector('#rs-case').innerText.includes('All reads are done')",
        timeout=30000,
    )
    aided = Assignment.objects.get(study=study, condition="aided")
    lock = AnswerRevision.objects.get(assignment=aided, kind="lock")
    assert lock.answers["diagnosis"] == "sich"
    assert lock.answers["confidence"] == 20
    assert lock.client_active_ms is not None
    api = page.evaluate(
        f"async () => (await fetch('/api/reading/assignments/{aided.pk}/revisions/')).json()"
    )
    assert api[-1]["kind"] == "lock"
    assert api[-1]["answers"]["diagnosis"] == "sich"


def test_network_error_on_submit_offers_retry_and_loses_nothing(live_server, page, reading_world):
    study, reader, case = reading_world
    _open_workspace(page, live_server, reader, study)
    page.wait_for_function(
        "() => window.readerstudyWorkspace && window.readerstudyWorkspace.assignment", timeout=30000
    )
    # Keyboard only: focus the first answer, choose with the arrow keys, type the rating.
    page.locator("input[name=diagnosis]").first.focus()
    page.keyboard.press("Space")
    page.locator("input[type=number][name=confidence]").focus()
    page.keyboard.type("60")
    failures = {"left": 1}

    def flaky(route):
        if failures["left"]:
            failures["left"] -= 1
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/submit/", flaky)
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#rs-retry:not([hidden])", timeout=15000)
    assert (
        "Press Retry" in page.locator("#rs-status").inner_text()
        or "Retry" in page.locator("#rs-status").inner_text()
    )
    assert AnswerRevision.objects.filter(assignment__study=study).count() == 0
    page.click("#rs-retry")
    page.wait_for_function(
        "() => window.readerstudyWorkspace.assistanceShown === true", timeout=30000
    )
    unaided = Assignment.objects.get(study=study, condition="unaided")
    lock = AnswerRevision.objects.get(assignment=unaided, kind="lock")
    assert lock.answers["diagnosis"] == "cvst_ich"
    assert lock.answers["confidence"] == 60
    assert AnswerRevision.objects.filter(assignment=unaided, kind="submit").count() == 1


def test_aided_read_waits_for_the_model_output_before_it_can_be_submitted(
    live_server, page, tmp_path
):
    study, reader, case = _build_world(tmp_path, matrix=128, with_output=False)
    page.add_init_script("window.readerstudyAssistanceRetryMs = 300;")
    _open_workspace(page, live_server, reader, study)
    page.wait_for_function(
        "() => window.readerstudyWorkspace && window.readerstudyWorkspace.assignment", timeout=30000
    )
    page.get_by_role("radio", name="CVST-related ICH").check()
    page.locator("input[type=number][name=confidence]").fill("40")
    page.click("#rs-submit")
    # The aided read opens without model output (the job has not run): submit stays disabled.
    page.wait_for_function(
        "() => document.getElementById('rs-status').textContent.includes('not ready')",
        timeout=30000,
    )
    assert "has not been run on this case" in page.locator("#rs-status").inner_text()
    assert page.locator("#rs-phase").inner_text() == "Aided read: waiting for the model output"
    assert page.locator("#rs-submit").is_disabled()
    opacity = page.eval_on_selector("#rs-submit", "el => getComputedStyle(el).opacity")
    assert float(opacity) < 0.6  # a disabled button looks disabled
    page.locator("input[type=number][name=confidence]").press("Control+Enter")
    aided = Assignment.objects.get(study=study, condition="aided")
    assert not AnswerRevision.objects.filter(assignment=aided, kind="submit").exists()
    # The output arrives; the page shows it on its next try and the read can be submitted.
    _output_for(case, study.assistance.model_version)
    page.wait_for_function(
        "() => window.readerstudyWorkspace.assistanceShown === true", timeout=30000
    )
    assert page.locator("#rs-submit").is_enabled()
    assert page.locator("#rs-phase").inner_text() == "Aided read: the model output is shown"
    assert page.locator("input[type=number][name=confidence]").input_value() == "40"
    page.click("#rs-submit")
    page.wait_for_function(
        "() => document.getElementById('rs-case').textContent.includes('All reads are done')",
        timeout=30000,
    )
    lock = AnswerRevision.objects.get(assignment=aided, kind="lock")
    assert lock.answers["confidence"] == 40
    assert aided.exposures.count() >= 1


def test_the_reading_screen_guides_the_reader(live_server, page, reading_world, artifacts):
    study, reader, case = reading_world
    _open_workspace(page, live_server, reader, study)
    page.wait_for_function(
        "() => window.readerstudyWorkspace && window.readerstudyWorkspace.assignment", timeout=30000
    )
    # Instructions open on a first visit, with the shortcuts.
    help_panel = page.locator("#rs-help")
    assert help_panel.get_attribute("open") is not None
    assert "Ctrl + Enter" in help_panel.inner_text() and "aided" in help_panel.inner_text()
    # An unanswered confidence scale does not look answered.
    scale = page.locator("input[type=range]")
    assert "unset" in scale.get_attribute("class")
    assert page.locator(".rs-unset-hint").is_visible()
    page.screenshot(path=str(artifacts / "10-unaided-unanswered.png"))
    page.get_by_role("radio", name="CVST-related ICH").check()
    page.locator("input[type=number][name=confidence]").fill("70")
    assert "unset" not in scale.get_attribute("class")
    assert not page.locator(".rs-unset-hint").is_visible()
    page.click("#rs-submit")
    page.wait_for_function(
        "() => window.readerstudyWorkspace.assistanceShown === true", timeout=30000
    )
    # The model's call reads as the answer options do, not as a code.
    call = page.locator("#rs-assistance .call").inner_text()
    assert call.endswith("CVST-related ICH") and "cvst_ich" not in call
    # Where each map lies: a strip per map and a jump to its strongest slice.
    assert page.locator(".rs-map-row").count() == 2
    jump = page.locator("[data-testid=jump-ig]")
    strongest = int(jump.inner_text().removeprefix("Slice ")) - 1
    heights = page.evaluate(
        """() => [...document.querySelectorAll('.rs-map-row[data-method=ig] .rs-strip span')]
                 .map(b => parseFloat(b.style.height))"""
    )
    assert heights[strongest] == max(heights) == 100
    jump.click()
    page.wait_for_function(
        f"() => window.readerstudyWorkspace.viewer.getState().slice === {strongest}",
        timeout=10000,
    )
    assert page.locator(".rs-strip span.current").count() == 2
    page.screenshot(path=str(artifacts / "11-aided-map-locator.png"))
    page.get_by_role("radio", name="Spontaneous ICH").check()
    page.click("#rs-submit")
    page.wait_for_function(
        "() => document.getElementById('rs-case').textContent.includes('All reads are done')",
        timeout=30000,
    )
    # The end of the study: no viewer, no toolbar, no submit, the final count.
    assert not page.locator("#rs-viewer").is_visible()
    assert not page.locator("#rs-toolbar").is_visible()
    assert not page.locator("#rs-submit").is_visible()
    page.wait_for_function(
        "() => document.getElementById('rs-progress').textContent === '2 / 2 reads locked'",
        timeout=10000,
    )
    page.screenshot(path=str(artifacts / "12-done.png"))
