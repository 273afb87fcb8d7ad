"""Marks in the reader's workspace (Debian chromium): lesion marks with ratings, slice marks and
a segmentation; a reload brings them back; the lock ends edits."""

import json
from pathlib import Path

import pytest

from readerstudy.cases.ingest import import_study
from readerstudy.reading.models import AnswerRevision, ReaderSegmentation
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Assignment, Design
from readerstudy.studies.questions import seed000_questions
from tests.browser.helpers import login
from tests.factories import ModelVersionFactory, ReaderFactory, make_inference_output

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/shots/marks")

MARKS = {
    "code": "lesions",
    "type": "marks",
    "text": "Mark each hemorrhage",
    "options": [{"value": "ich", "label": "ICH"}],
    "required": False,
    "config": {"tools": ["point", "ellipse", "rectangle", "slice", "brush"], "rating_min": 1,
               "rating_max": 5, "max_marks": 5},
}  # fmt: skip


@pytest.fixture
def world(tmp_path):
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "ph", 1, 5, matrix=128, positive_fraction=1.0)
    case = import_study(tmp_path / "ph" / records[0]["case_id"]).case
    model = ModelVersionFactory()
    series = case.primary_series
    make_inference_output(
        case, model, shape=(series.num_slices, series.rows, series.columns), methods=("gradcampp",)
    )
    study = study_services.create_study(
        title="marks", design=Design.SEQUENTIAL_PER_CASE, randomization_seed=1
    )
    study_services.set_questions(study, [*seed000_questions(), MARKS])
    study_services.add_cases(study, [case])
    reader = ReaderFactory()
    study_services.enroll_reader(study, reader)
    study_services.configure_assistance(
        study, model_version=model, heatmaps=["gradcampp"], show_model_marks=True
    )
    study = study_services.open_study(study, truth_pending_allowed=True)
    return study, reader


def _wait_marks(page):
    page.wait_for_function(
        "() => { const w = window.readerstudyWorkspace; return w && w.viewer &&"
        " w.viewer.getState().tools && w.marksPanels.lesions; }",
        timeout=60000,
    )
    page.evaluate("() => window.readerstudyWorkspace.marksPanels.lesions.ready")


def _value(page) -> dict:
    return page.evaluate("() => window.readerstudyWorkspace.marksPanels.lesions.value()")


def _viewport_box(page):
    return page.locator(".rsv-viewport").first.bounding_box()


def _drag(page, x0, y0, x1, y1, steps=8):
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=steps)
    page.mouse.up()


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / name))


def test_reader_marks_reloads_and_locks(live_server, page, world):
    study, reader = world
    login(page, live_server, reader)
    page.goto(f"{live_server.url}/read/{study.pk}/")
    _wait_marks(page)
    box = _viewport_box(page)
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    panel = page.locator("[data-testid=marks-lesions]")

    # A point mark (key P), rated 5 in the list.
    page.keyboard.press("p")
    assert panel.locator("button[data-tool=point]").get_attribute("aria-pressed") == "true"
    page.mouse.click(cx - 40, cy - 20)
    page.wait_for_function(
        "() => window.readerstudyWorkspace.marksPanels.lesions.value().marks.length === 1"
    )
    panel.locator(".rs-mark select").first.select_option("5")
    # An ellipse (key E), dragged.
    page.keyboard.press("e")
    _drag(page, cx + 20, cy + 10, cx + 70, cy + 50)
    page.wait_for_function(
        "() => window.readerstudyWorkspace.marksPanels.lesions.value().marks.length === 2"
    )
    # A slice mark on the current slice.
    panel.locator("input[data-slice-label=ich]").check()
    # A segmentation: brush strokes (key B), then a threshold fill (key T) in 0-200 HU.
    page.keyboard.press("b")
    _drag(page, cx - 60, cy + 40, cx - 20, cy + 60)
    page.wait_for_function(
        "() => window.readerstudyWorkspace.marksPanels.lesions.value().segmentation !== null",
        timeout=20000,
    )
    first_voxels = _value(page)["segmentation"]["voxels"]
    page.keyboard.press("t")
    panel.locator(".rs-marks-hu-low").fill("0")
    panel.locator(".rs-marks-hu-high").fill("200")
    panel.locator(".rs-marks-hu-high").dispatch_event("change")
    page.locator(".rsv-viewport").first.hover()
    _drag(page, cx + 30, cy - 60, cx + 60, cy - 40)
    page.wait_for_function(
        f"() => (window.readerstudyWorkspace.marksPanels.lesions.value().segmentation || {{}}).voxels > {first_voxels}",
        timeout=20000,
    )
    # Undo takes the fill back (Ctrl+Z), redo restores it.
    with_fill = _value(page)["segmentation"]["voxels"]
    page.keyboard.press("Control+z")
    page.wait_for_function(
        f"() => (window.readerstudyWorkspace.marksPanels.lesions.value().segmentation || {{}}).voxels === {first_voxels}",
        timeout=20000,
    )
    page.keyboard.press("Control+y")
    page.wait_for_function(
        f"() => (window.readerstudyWorkspace.marksPanels.lesions.value().segmentation || {{}}).voxels === {with_fill}",
        timeout=20000,
    )
    page.keyboard.press("w")
    value = _value(page)
    assert [m["tool"] for m in value["marks"]] == ["point", "ellipse"]
    assert value["marks"][0]["rating"] == 5 and value["marks"][1]["rating"] == 3
    assert len(value["slice_marks"]) == 1
    page.wait_for_function(
        "() => document.querySelector('#rs-status').innerText.includes('Draft saved')",
        timeout=20000,
    )
    _shot(page, "01-marks-and-segmentation.png")
    assignment = Assignment.objects.get(reader__user=reader, condition="unaided")
    saved = AnswerRevision.objects.filter(assignment=assignment).order_by("-number").first()
    assert saved.answers["lesions"]["marks"][0]["point_mm"] == value["marks"][0]["point_mm"]
    assert ReaderSegmentation.objects.filter(assignment=assignment).exists()

    # Reload: marks, ratings, slice mark and segmentation come back.
    page.reload()
    _wait_marks(page)
    page.wait_for_function(
        "() => window.readerstudyWorkspace.marksPanels.lesions.value().marks.length === 2"
    )
    page.wait_for_function(
        "() => document.querySelector('.rs-marks-seg-status').innerText.includes('voxels, saved')",
        timeout=20000,
    )
    back = _value(page)
    assert back == value
    assert panel.locator(".rs-mark select").first.input_value() == "5"
    # Jump to the point mark's slice.
    panel.locator(".rs-mark button", has_text="Go").first.click()
    _shot(page, "02-after-reload.png")

    # Lock: the locked answer holds the marks; the unaided read takes no more edits.
    page.get_by_role("radio", name="CVST-related ICH").check()
    page.locator("input[type=number][name=confidence]").fill("60")
    page.click("#rs-submit")
    page.wait_for_function(
        "() => window.readerstudyWorkspace.assistanceShown === true", timeout=60000
    )
    lock = AnswerRevision.objects.get(assignment=assignment, kind="lock")
    assert lock.answers["lesions"] == value
    refused = page.evaluate(
        """async ([id, body]) => {
            const csrf = document.getElementById('rs-app').dataset.csrf;
            const r = await fetch(`/api/reading/assignments/${id}/draft/`, {method: 'PUT',
              headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf},
              body: JSON.stringify({answers: body})});
            return r.status;
        }""",
        [assignment.pk, json.loads(json.dumps(lock.answers))],
    )
    assert refused == 409
    # The aided read opens with the locked unaided marks, the model output beside them.
    _wait_marks(page)
    page.wait_for_function(
        "() => window.readerstudyWorkspace.marksPanels.lesions.value().marks.length === 2"
    )
    # The model's marks are listed apart and drawn read-only.
    model_rows = panel.locator(".rs-mark-model")
    model_rows.first.wait_for(timeout=20000)
    model_rows.first.locator("button", has_text="Go").click()
    assert (
        page.evaluate("() => window.readerstudyWorkspace.marksPanels.lesions.value().marks.length")
        == 2
    )  # the model's marks are not the reader's
    _shot(page, "03-locked-then-aided-with-model-marks.png")
