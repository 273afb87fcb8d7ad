"""Clinical data in the case library, in Debian chromium (1366 x 768): the CSV upload with a
row error (nothing stored), then a good one, the list of values and a case's form."""

import pytest

from readerstudy.cases.models import ClinicalRecord, GroundTruth
from tests.browser.helpers import login
from tests.factories import CaseFactory, CoordinatorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clinical_upload_list_and_case_form(live_server, page, tmp_path, artifacts):
    cases = [CaseFactory() for _ in range(4)]
    login(page, live_server, CoordinatorFactory())
    page.goto(f"{live_server.url}/cases/")
    page.click("a[href='/cases/clinical/']")
    page.wait_for_selector("#clinical-form")

    header = (
        "case_id,age,sex,onset_to_imaging_h,seizure_at_admission,hypertension,headache,etiology"
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{header}\n{cases[0].code},54,F,6,1,0,1,CVT\n{cases[1].code},x,F,6,1,0,1,XYZ\n")
    page.set_input_files("#id_file", str(bad))
    page.click("#clinical-form button[type=submit]")
    page.wait_for_selector("#clinical-errors")
    errors = page.locator("#clinical-errors").inner_text()
    assert "Nothing was stored: 2 problems." in errors
    assert "row 3, column 'age': 'x' is not a number" in errors
    assert "row 3, column 'etiology': 'XYZ' is not one of CVT, HP, CAA, AVM, other" in errors
    assert not ClinicalRecord.objects.exists()
    page.screenshot(path=str(artifacts / "clinical-row-errors.png"), full_page=True)

    rows = [
        f"{cases[0].code},54,F,6,1,0,1,CVT",
        f"{cases[1].code},71,M,20.5,0,1,0,HP",
        f"{cases[2].code},66,F,3,0,1,1,CAA",
        f"{cases[3].code},38,M,11,0,0,1,AVM",
    ]
    good = tmp_path / "good.csv"
    good.write_text(header + "\n" + "\n".join(rows) + "\n")
    page.set_input_files("#id_file", str(good))
    page.click("#clinical-form button[type=submit]")
    page.wait_for_selector(".messages li")
    assert (
        "Clinical data for 4 cases stored; 4 new, 0 updated."
        in page.locator(".messages").inner_text()
    )
    assert page.locator("#clinical-table tbody tr").count() == 4
    first = page.locator("#clinical-table tbody tr").first.inner_text()
    assert first.split("\t")[:3] == [cases[0].code, "54", "F"]
    page.fill("#id_name", "gcs")
    page.select_option("#id_kind", "integer")
    page.fill("#id_label", "Glasgow coma scale")
    page.click("#variable-form button[type=submit]")
    page.wait_for_selector("#variables-table code:text('gcs')")
    page.screenshot(path=str(artifacts / "clinical-list.png"), full_page=True)

    page.click(f"a[href='/cases/{cases[1].code}/clinical/']")
    page.wait_for_selector("#case-clinical-form")
    assert page.input_value("#id_age") == "71"
    assert page.input_value("#id_etiology") == "HP"
    page.fill("#id_gcs", "twelve")
    page.click("#case-clinical-form button[type=submit]")
    page.wait_for_selector("#gcs-error")
    assert "'twelve' is not a whole number" in page.locator("#gcs-error").inner_text()
    page.screenshot(path=str(artifacts / "clinical-case-error.png"), full_page=True)
    page.fill("#id_gcs", "12")
    page.select_option("#id_etiology", "CVT")
    page.click("#case-clinical-form button[type=submit]")
    page.wait_for_selector(".messages li")
    assert ClinicalRecord.objects.get(case=cases[1]).values["gcs"] == 12
    assert GroundTruth.objects.get(case=cases[1]).etiology == "cvt"
    page.screenshot(path=str(artifacts / "clinical-case.png"), full_page=True)
