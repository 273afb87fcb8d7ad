"""The case page in Debian chromium: the truth mask's provenance after a panel's consensus
replaced an imported mask (the coordinator first kept it, then chose to replace it)."""

from pathlib import Path

import pytest

from readerstudy.cases.ingest import import_study
from readerstudy.studies.truth_source import set_truth_source
from tests.browser.helpers import login
from tests.panels.test_case_truth_masks import _finished, _imported, _study


@pytest.fixture
def case(tmp_path):
    """A phantom case with one series (as ``test_case_truth_masks``)."""
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "ph", 1, 5, matrix=64, positive_fraction=1.0)
    return import_study(tmp_path / "ph" / records[0]["case_id"]).case


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots/bundle2")


def test_the_case_page_shows_which_panel_wrote_the_truth_mask(
    live_server, page, case, client, artifacts
):
    panel, coordinator = _finished(client, case)
    _imported(case, lesions=False)
    study = _study(case)
    set_truth_source(study, panel.pk, replace_masks=False, user=coordinator)
    set_truth_source(study, panel.pk, replace_masks=True, user=coordinator)
    login(page, live_server, coordinator)
    page.goto(f"{live_server.url}/cases/{case.code}/")
    section = page.locator("#truth-mask-provenance")
    section.scroll_into_view_if_needed()
    text = section.inner_text()
    assert "100 voxels" in text and panel.title in text
    assert "replaced the case's existing mask" in text
    assert section.locator("tbody tr").count() == 2
    assert section.locator("tbody tr").first.get_attribute("data-outcome") == "replaced"
    page.click(f"#truth-mask-now a[href='/panels/{panel.pk}/']")
    page.wait_for_url(f"**/panels/{panel.pk}/")
    page.go_back()
    page.locator("#truth-mask-provenance").scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    for folder in (SHOTS, artifacts):
        page.screenshot(path=str(folder / "case-mask-provenance.png"))
