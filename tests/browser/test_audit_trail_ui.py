"""The study's audit trail in Debian chromium: the study page's link, the page, the CSV link."""

import os
from pathlib import Path

import pytest

from tests.browser.helpers import login
from tests.exports.conftest import finished_study  # noqa: F401  (a study with answer revisions)
from tests.factories import CoordinatorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("READERSTUDY_SHOTS", "/tmp/shots/audit"))


def test_a_coordinator_opens_the_trail_from_the_study_page(
    live_server,
    page,
    finished_study,  # noqa: F811  (the imported fixture)
    artifacts,
):
    study, readers, _ = finished_study
    user = CoordinatorFactory()
    login(page, live_server, user)
    page.goto(f"{live_server.url}/studies/{study.pk}/")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "study-detail-link.png"))
    page.click("#audit-trail-link")
    page.wait_for_selector("#audit-trail")
    rows = page.locator("#audit-trail tbody tr")
    assert rows.count() == 50  # a full first page: the study has more rows than that
    assert readers[0].username in page.locator("#audit-trail").inner_text()
    page.screenshot(path=str(SHOTS / "study-audit-trail.png"))
    page.screenshot(path=str(artifacts / "study-audit-trail.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#audit-csv")
    assert download.value.suggested_filename.endswith("-audit.csv")
    page.click("text=older")
    page.wait_for_selector("#audit-trail")
    assert "study.create" in page.locator("#audit-trail").inner_text()  # the oldest row
    page.screenshot(path=str(SHOTS / "study-audit-trail-older.png"))
