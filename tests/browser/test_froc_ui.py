"""A FROC study on the exports page (Debian chromium, 1366 x 768): the statistician downloads
the RJafroc workbook and runs the FROC analysis, whose page shows wAFROC with OR."""

import pytest

from readerstudy.analysis.froc_io import read_froc_xlsx
from readerstudy.exports.models import AnalysisRun
from readerstudy.studies import services
from tests.browser.helpers import login
from tests.exports.test_froc_export import _study
from tests.factories import StatisticianFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_froc_workbook_and_analysis_from_the_exports_page(page, live_server, artifacts, tmp_path):
    study = _study(tmp_path)
    services.close_study(study)
    user = StatisticianFactory()
    login(page, live_server, user)
    page.goto(f"{live_server.url}/exports/")
    row = page.locator("tr", has_text="FROC study")
    page.screenshot(path=str(artifacts / "froc-exports.png"))
    with page.expect_download() as info:
        row.locator("text=RJafroc workbook (xlsx)").click()
    workbook = read_froc_xlsx(info.value.path().read_bytes())
    assert workbook.modalities == ["unaided", "aided"] and len(workbook.readers) == 2
    with page.expect_navigation():
        row.locator("text=Run FROC analysis").click()
    page.wait_for_selector("#froc-summary", timeout=120000)
    run = AnalysisRun.objects.get(study=study)
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    summary = page.locator("#froc-summary").inner_text()
    assert "wAFROC" in summary and "unaided - aided" in summary
    assert f"{run.summary['means']['aided']:.4f}" in summary
    page.screenshot(path=str(artifacts / "froc-analysis.png"), full_page=True)
