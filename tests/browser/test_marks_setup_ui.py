"""The coordinator side of lesion marks in the browser: a marks question's settings in the
question editor, the truth lesions page with a refused CSV, and a study's segmentation page."""

# ruff: noqa: F811  (``world``, the fixture imported below, is a test's argument)
from pathlib import Path

import pytest

from readerstudy.studies import services
from readerstudy.studies.models import Design
from tests.browser.helpers import login
from tests.exports.test_froc_segmentations import world  # noqa: F401  (the fixture)
from tests.factories import CoordinatorFactory, SeriesFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/shots/marks")


def _shot(page, artifacts, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for where in (SHOTS, artifacts):
        page.screenshot(path=str(where / name), full_page=True)


def test_a_marks_question_is_set_up_in_the_editor(page, live_server, artifacts):
    study = services.create_study(
        title="Hematoma marks", design=Design.UNAIDED_ONLY, randomization_seed=3, preset="seed003"
    )
    login(page, live_server, CoordinatorFactory())
    page.goto(f"{live_server.url}/studies/{study.pk}/questions/new/")
    settings = page.locator("#marks-settings")
    assert settings.is_hidden()  # the first type is not marks
    page.fill("#id_code", "lesions")
    page.fill("#id_text", "Mark each hemorrhage and rate it")
    page.select_option("#id_type", "marks")
    assert settings.is_visible()
    page.uncheck("#id_marks-tools_2")  # no rectangles
    page.fill("#id_marks-max_marks", "8")
    page.fill("#id_marks-threshold_hu_low", "95")
    page.fill("#id_options-0-value", "sdh")
    page.fill("#id_options-0-label", "Subdural")
    page.fill("#id_options-1-value", "iph")
    page.fill("#id_options-1-label", "Intraparenchymal")
    page.click("text=Save question")
    error = page.locator("#field-marks-threshold_hu_high .errorlist")
    assert "the upper HU (90) must be above the lower (95)" in error.inner_text()
    assert page.locator("#marks-settings").is_visible()  # shown again with the error
    _shot(page, artifacts, "editor-marks-question-error.png")
    page.fill("#id_marks-threshold_hu_low", "45")
    page.click("text=Save question")
    page.wait_for_url(lambda url: url.endswith("#study-questions"))
    q = study.questions.get(code="lesions")
    assert q.config == {"tools": ["point", "ellipse", "slice", "brush"], "rating_min": 1,
                        "rating_max": 5, "max_marks": 8, "threshold_hu_low": 45,
                        "threshold_hu_high": 90}  # fmt: skip
    page.goto(f"{live_server.url}/studies/{study.pk}/questions/lesions/edit/")
    assert page.input_value("#id_marks-max_marks") == "8"
    assert not page.is_checked("#id_marks-tools_2") and page.is_checked("#id_marks-tools_3")
    _shot(page, artifacts, "editor-marks-question.png")
    page.select_option("#id_type", "free_text")
    assert page.locator("#marks-settings").is_hidden()


def test_the_lesions_page_shows_a_refused_csv(page, live_server, artifacts, tmp_path):
    case = SeriesFactory().case
    login(page, live_server, CoordinatorFactory())
    page.goto(f"{live_server.url}/cases/")
    page.click("#truth-lesions-link")
    bad = tmp_path / "lesions.csv"
    bad.write_text(
        "case_code,lesion_id,x_mm,y_mm,z_mm,weight\n"
        f"{case.code},1,12.5,-30,41,0.6\n{case.code},2,4,-22,abc,0.4\nRS-UNKNOWN,1,0,0,0,\n"
    )
    page.set_input_files("#id_file", str(bad))
    page.click("button[value=import]")
    errors = page.locator("#lesion-errors").inner_text()
    assert "Nothing was stored: 3 problems." in errors
    assert "line 3: z_mm 'abc' is not a number" in errors
    _shot(page, artifacts, "lesions-import-error.png")
    good = tmp_path / "good.csv"
    good.write_text(f"case_code,lesion_id,x_mm,y_mm,z_mm\n{case.code},1,12.5,-30,41\n")
    page.set_input_files("#id_file", str(good))
    page.click("button[value=check]")
    assert "1 lesion of 1 case would be imported" in page.locator("#lesion-check").inner_text()
    page.set_input_files("#id_file", str(good))
    page.click("button[value=import]")
    assert "Truth lesions imported: 1 lesion of 1 case." in page.locator(".messages").inner_text()
    assert case.code in page.locator("#lesion-table").inner_text()


def test_the_segmentation_page_offers_the_zips_and_the_dice(world, page, live_server, artifacts):
    study, *_ = world
    login(page, live_server, CoordinatorFactory())
    page.goto(f"{live_server.url}/studies/{study.pk}/")
    page.locator("#marks-scoring-card").screenshot(path=str(SHOTS / "study-marks-scoring.png"))
    page.select_option("#id_scoring-criterion", "mask")
    page.click("#marks-scoring-form button[type=submit]")
    page.wait_for_url(lambda url: url.endswith(f"/exports/studies/{study.pk}/marks/"))
    assert page.input_value("#id_scoring-criterion") == "mask"
    assert "3 locked reads" in page.locator("#segmentation-count").inner_text()
    assert "reader_vs_model" in page.locator("#dice-summary").inner_text()
    with page.expect_download() as info:
        page.click("#download-nifti-zip")
    assert info.value.suggested_filename == "segmentations-segmentations-nifti.zip"
    _shot(page, artifacts, "segmentation-downloads.png")
