"""Ground truth in the case library, in Debian chromium: labels CSV, the case page, row errors."""

import pytest

from readerstudy.cases.models import Case, GroundTruth
from tests.browser.helpers import login, phantom_study_zip
from tests.factories import CoordinatorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phantom_zip(tmp_path):
    return phantom_study_zip(
        tmp_path / "study", 7, extra={"Doe John/notes.txt": "left out: not DICOM"}
    )


def _upload(page, path):
    page.set_input_files("#files", str(path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#upload-case", timeout=60000)
    return page.locator("#upload-result").inner_text()


def test_labels_csv_then_the_case_page_then_a_row_error(
    live_server, page, phantom_zip, tmp_path, artifacts
):
    login(page, live_server, CoordinatorFactory())
    page.goto(f"{live_server.url}/cases/")
    result = _upload(page, phantom_zip)
    case = Case.objects.get()
    assert f"Imported case {case.code}." in result
    assert "Doe John/notes.txt" in result  # the name as zipped, beside its hashed label
    page.screenshot(path=str(artifacts / "case-upload-left-out.png"), full_page=True)
    page.goto(f"{live_server.url}/cases/")
    result = _upload(page, phantom_zip)
    assert f"Case {case.code} was already in the library" in result

    page.goto(f"{live_server.url}/cases/")
    assert page.locator("td.case-labelled").inner_text() == "no"
    good = tmp_path / "labels.csv"
    good.write_text(f"case_code,label,ich_present,subtypes\n{case.code},cvst_ich,1,IPH\n")
    page.set_input_files("#id_file", str(good))
    page.click("#labels-form button[type=submit]")
    page.wait_for_selector(".messages li")
    assert "Labels for 1 case stored; 1 new, 0 updated." in page.locator(".messages").inner_text()
    assert page.locator("td.case-labelled").inner_text() == "yes"
    page.screenshot(path=str(artifacts / "case-library-labelled.png"), full_page=True)

    page.click(f"a[href='/cases/{case.code}/']")
    page.wait_for_selector("#truth-form")
    assert page.locator("h1").inner_text() == case.code
    assert page.locator("#case-labelled").inner_text() == "yes"
    assert page.input_value("#id_label") == "cvst_ich"
    page.fill("#id_label", "sich")
    page.select_option("#id_ich_present", "0")
    page.fill("#id_subtypes", "")
    page.fill("#id_location", "deep")
    page.click("#truth-form button[type=submit]")
    page.wait_for_selector(".messages li")
    assert f"Ground truth of {case.code} saved." in page.locator(".messages").inner_text()
    truth = GroundTruth.objects.get(case=case)
    assert (truth.etiology, truth.ich_present, truth.subtypes, truth.location) == (
        "sich", False, [], "deep"
    )  # fmt: skip
    page.fill("#id_label", "")
    page.click("#truth-form button[type=submit]")
    page.wait_for_selector("#label-error")
    assert page.locator("#label-error").inner_text() == "'label' is empty"
    page.screenshot(path=str(artifacts / "case-detail-truth.png"), full_page=True)

    page.goto(f"{live_server.url}/cases/")
    bad = tmp_path / "bad.csv"
    bad.write_text(f"case_code,label,ich_present\n{case.code},cvst_ich,yes\nRS-NOPE,sich,0\n")
    page.set_input_files("#id_file", str(bad))
    page.click("#labels-form button[type=submit]")
    page.wait_for_selector("#labels-errors")
    errors = page.locator("#labels-errors").inner_text()
    assert "row 2: 'ich_present' must be 0 or 1, got 'yes'" in errors
    assert "row 3: no imported case matches this row" in errors
    page.locator("#labels-errors").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "case-labels-errors.png"), full_page=True)
    assert GroundTruth.objects.get(case=case).etiology == "sich"
