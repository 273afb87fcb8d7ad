"""The case library's upload form in Debian chromium: bytes sent, the upload taken (202), then
the import's phases as the worker reports them (the task runs eagerly in the test server)."""

import re

import pytest

from readerstudy.cases.models import Case, ImportJob
from tests.browser.helpers import login, phantom_study_zip
from tests.factories import CoordinatorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_PHASES = """() => {
  window.phasesSeen = [];
  const live = document.getElementById('upload-live');
  new MutationObserver(() => {
    const phase = live.dataset.phase;
    if (phase && window.phasesSeen[window.phasesSeen.length - 1] !== phase) {
      window.phasesSeen.push(phase);
    }
  }).observe(live, { attributes: true, attributeFilter: ['data-phase'] });
}"""


# While a worker phase shows: the label and the status line, read together
IMPORTING = """() => ['validating', 'de-identifying', 'storing'].includes(
    document.getElementById('upload-live').dataset.phase)
  && [document.getElementById('upload-progress-label').textContent,
      document.getElementById('upload-status').textContent]"""


@pytest.fixture
def phantom_zip(tmp_path):
    return phantom_study_zip(tmp_path / "study", 7)


@pytest.fixture
def thin_phantom_zip(tmp_path):
    """A thin-slice study (over 100 slices): its import lasts long enough to be seen."""
    return phantom_study_zip(tmp_path / "thin-study", 9, thin=True, matrix=256)


def test_upload_shows_progress_then_the_case_code(live_server, page, phantom_zip, artifacts):
    login(page, live_server, CoordinatorFactory())
    requests_seen: list[str] = []
    page.on("request", lambda r: requests_seen.append(f"{r.method} {r.url}"))
    page.goto(f"{live_server.url}/cases/")
    assert page.locator("#upload-live").is_hidden()
    page.evaluate(RECORD_PHASES)
    page.set_input_files("#files", str(phantom_zip))
    page.fill("#collection", "browser uploads")
    page.click("#upload-form button[type=submit]")

    page.wait_for_selector("#upload-case", timeout=60000)
    case = Case.objects.get()
    assert page.locator("#upload-case").inner_text().startswith(f"Imported case {case.code}")
    bar = page.locator("#upload-progress")
    assert bar.get_attribute("data-phase") == "done"
    assert page.evaluate("() => { const b = document.getElementById('upload-progress');"
                         " return b.value === b.max; }")  # fmt: skip
    assert page.locator("#upload-progress-label").inner_text() == "Done"
    assert page.locator("#upload-status").get_attribute("aria-live") == "polite"
    assert page.locator("#upload-status").inner_text() == "Import finished."
    page.screenshot(path=str(artifacts / "case-upload-done.png"))

    phases = page.evaluate("() => window.phasesSeen")
    assert phases[0] == "sending" and phases[-1] == "done", phases
    job = ImportJob.objects.get()
    assert job.status == "succeeded" and job.collection.name == "browser uploads"
    assert f"POST {live_server.url}/api/cases/imports/" in requests_seen
    assert f"POST {live_server.url}/api/cases/imports/{job.pk}/upload/" in requests_seen
    polls = [r for r in requests_seen if r == f"GET {live_server.url}/api/cases/imports/{job.pk}/"]
    assert polls, requests_seen  # the page polled the job once the bytes were sent


def test_bad_upload_lists_the_errors(live_server, page, tmp_path):
    login(page, live_server, CoordinatorFactory())
    page.goto(f"{live_server.url}/cases/")
    junk = tmp_path / "notes.txt"
    junk.write_text("not an image")
    page.set_input_files("#files", str(junk))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#upload-errors li", timeout=30000)
    assert "[no_series]" in page.locator("#upload-errors").inner_text()
    assert page.locator("#upload-progress").get_attribute("data-phase") == "failed"
    assert Case.objects.count() == 0
    assert ImportJob.objects.get().status == "failed"


def test_the_page_shows_the_worker_importing(live_server, page, thin_phantom_zip, artifacts):
    login(page, live_server, CoordinatorFactory())
    page.goto(f"{live_server.url}/cases/")
    page.evaluate(RECORD_PHASES)
    page.set_input_files("#files", str(thin_phantom_zip))
    page.click("#upload-form button[type=submit]")
    label, status = page.wait_for_function(IMPORTING, timeout=120000, polling="raf").json_value()
    page.screenshot(path=str(artifacts / "case-upload-importing.png"))
    assert re.fullmatch(r"(Validating|De-identifying|Storing): \d+ of \d{3} files", status), status
    assert label == status.split(":")[0]
    page.wait_for_selector("#upload-case", timeout=120000)
    page.screenshot(path=str(artifacts / "case-upload-imported.png"))
    phases = page.evaluate("() => window.phasesSeen")
    assert phases[0] == "sending" and phases[-1] == "done", phases
    # in order, never back to an earlier phase. The bytes are sent ("sent") while the server
    # may still be moving them into place: a poll then says the job is "waiting" for its files,
    # so the two share one rank (and the upload's 202 answer may come after a poll).
    rank = {"sending": 0, "sent": 1, "waiting": 1, "received": 2, "validating": 3}
    rank |= {"de-identifying": 4, "storing": 5, "done": 6}
    assert [rank[p] for p in phases] == sorted(rank[p] for p in phases), phases
    assert ImportJob.objects.get().status == "succeeded"


def test_a_selection_past_the_limit_is_refused_before_sending(
    live_server, page, settings, tmp_path
):
    settings.MAX_UPLOAD_BYTES = 1000
    login(page, live_server, CoordinatorFactory())
    requests_seen: list[str] = []
    page.on("request", lambda r: requests_seen.append(f"{r.method} {r.url}"))
    page.goto(f"{live_server.url}/cases/")
    big = tmp_path / "big.dcm"
    big.write_bytes(b"x" * 5000)
    page.set_input_files("#files", str(big))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#upload-errors li", timeout=10000)
    assert "[upload_too_large]" in page.locator("#upload-errors").inner_text()
    assert not [r for r in requests_seen if r.startswith("POST")]
    assert ImportJob.objects.count() == 0
