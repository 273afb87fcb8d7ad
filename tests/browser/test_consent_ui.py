"""Consent in Debian chromium: the reader accepts before the first case and reads; the
coordinator changes the text while the reader is on the next case; the reader's next answer
leads back to the consent page, and the read goes on after accepting the new version."""

from pathlib import Path

import pytest

from readerstudy.cases.ingest import import_study
from readerstudy.reading.models import AnswerRevision, ConsentAcceptance
from readerstudy.studies import services as study_services
from readerstudy.studies.consent import set_consent_text
from readerstudy.studies.models import Design
from tests.browser.helpers import login
from tests.factories import CoordinatorFactory, ModelVersionFactory, ReaderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots/consent")


def _world(tmp_path):
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "ph", 2, 5, matrix=128, positive_fraction=0.5)
    cases = [import_study(tmp_path / "ph" / r["case_id"]).case for r in records]
    study = study_services.create_study(
        title="Head CT reading", design=Design.UNAIDED_ONLY, randomization_seed=1
    )
    study_services.add_cases(study, cases)
    reader = ReaderFactory()
    study_services.enroll_reader(study, reader)
    study_services.configure_assistance(study, model_version=ModelVersionFactory())
    set_consent_text(study, "I take part voluntarily.\nMy reads are analysed without my name.")
    study = study_services.open_study(study, truth_pending_allowed=True)
    return study, reader


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


def _locked_reads(reader) -> int:
    return AnswerRevision.objects.filter(
        assignment__reader__user=reader, kind=AnswerRevision.Kind.LOCK
    ).count()


def _case_shown(page):
    page.wait_for_function(
        "() => document.querySelector('#rs-case')?.textContent.startsWith('Case ')",
        timeout=30000,
    )
    return page.locator("#rs-case").inner_text()


def _answer(page):
    """Answer the case shown and submit (with the lock); the case it was."""
    shown = _case_shown(page)
    page.get_by_role("radio", name="CVST-related ICH").check()
    page.locator("input[type=number][name=confidence]").fill("60")
    page.click("#rs-submit")
    return shown


def _wait_moved_on(page, previous):
    """The workspace shows another case, or that every read is done (the read was locked)."""
    page.wait_for_function(
        "(prev) => document.querySelector('.rs-done') || "
        "document.querySelector('#rs-case')?.textContent !== prev",
        arg=previous,
        timeout=30000,
    )


def test_consent_before_the_first_case_and_again_after_a_new_version(
    live_server, new_page, page, tmp_path
):
    study, reader = _world(tmp_path)
    requests_seen: list[str] = []
    page.on("request", lambda r: requests_seen.append(r.url))
    login(page, live_server, reader)
    page.goto(f"{live_server.url}/read/{study.pk}/")
    page.wait_for_url(f"**/read/{study.pk}/consent/")
    assert "My reads are analysed without my name." in page.locator("#consent-text").inner_text()
    assert page.locator("#rs-viewer").count() == 0
    assert not [u for u in requests_seen if "/api/reading/" in u]  # no read data before consent
    _shot(page, "01-reader-consent.png")

    page.click("#consent-accept")
    page.wait_for_url(f"**/read/{study.pk}/")
    _wait_moved_on(page, _answer(page))
    second = _case_shown(page)
    _shot(page, "02-reader-second-case.png")

    # The coordinator changes the text while the reader is on the second case.
    coordinator = CoordinatorFactory()
    staff = new_page()
    login(staff, live_server, coordinator)
    staff.goto(f"{live_server.url}/studies/{study.pk}/#study-consent")
    staff.fill("#consent-text-input", "I take part voluntarily.\nActive time is now recorded.")
    staff.click("#consent-save")
    staff.wait_for_selector("#consent-versions tbody tr:nth-child(2)")
    assert "Consent version 2 saved" in staff.content()
    staff.locator("#study-consent").scroll_into_view_if_needed()
    _shot(staff, "03-coordinator-new-version.png")
    staff.context.close()

    # The reader's next answer is refused (consent_required) and the page goes to consent.
    _answer(page)
    page.wait_for_url(f"**/read/{study.pk}/consent/", timeout=15000)
    assert page.locator("#consent-new-version").is_visible()
    assert "Active time is now recorded." in page.locator("#consent-text").inner_text()
    assert _locked_reads(reader) == 1
    _shot(page, "04-reader-consent-again.png")
    page.click("#consent-accept")
    page.wait_for_url(f"**/read/{study.pk}/")
    assert _answer(page) == second  # the refused read is the one offered again
    _wait_moved_on(page, second)
    page.wait_for_selector(".rs-done")
    _shot(page, "05-reader-done.png")
    assert _locked_reads(reader) == 2
    numbers = ConsentAcceptance.objects.filter(user=reader).values_list(
        "version__number", flat=True
    )
    assert sorted(numbers) == [1, 2]
