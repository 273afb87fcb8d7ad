"""The coordinator's pages in Debian chromium: a reader, a draft corrected, opened, its record."""

from datetime import timedelta

import pytest
from django.utils import timezone

from readerstudy.ai.models import InferenceJob
from readerstudy.cases.models import Collection, GroundTruth
from readerstudy.studies.models import ReaderStudy
from tests.browser.helpers import login
from tests.factories import CoordinatorFactory, ModelVersionFactory, cases_with_series

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every visible box: its right edge within 30 px of its own label text's left edge, same row.
MISALIGNED_BOXES = """() => {
  const bad = [];
  for (const box of document.querySelectorAll('input[type=checkbox]')) {
    if (!box.offsetParent) continue;
    const label = box.closest('label') || document.querySelector(`label[for="${box.id}"]`);
    const text = label && [...label.childNodes].find(
      (n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    if (!text) { bad.push(`${box.name}: no label text`); continue; }
    const range = document.createRange();
    range.selectNodeContents(text);
    const t = range.getClientRects()[0], b = box.getBoundingClientRect();
    const gap = t.left - b.right, dy = Math.abs((t.top + t.bottom) / 2 - (b.top + b.bottom) / 2);
    if (gap < 0 || gap > 30 || dy > b.height) bad.push(`${box.name}=${box.value}: gap ${gap}, dy ${dy}`);
  }
  return bad;
}"""


def _boxes_aligned(page):
    assert page.locator("input[type=checkbox]").count() > 0
    assert page.evaluate(MISALIGNED_BOXES) == []


def _library():
    north = Collection.objects.create(name="North")
    labelled, removed, unlabelled = cases_with_series(3)
    for case in (labelled, removed):
        case.collection = north
        case.save(update_fields=["collection"])
        GroundTruth.objects.create(case=case, etiology="sich")
    model = ModelVersionFactory()
    InferenceJob.objects.create(
        case=labelled, series=labelled.primary_series, model_version=model, params={},
        params_hash="0" * 64, status=InferenceJob.Status.RUNNING, done=40, total=100,
        started_at=timezone.now() - timedelta(seconds=20),
    )  # fmt: skip
    return labelled, removed, unlabelled, model


def test_coordinator_builds_corrects_and_opens_a_study(live_server, page, artifacts):
    labelled, removed, unlabelled, model = _library()
    login(page, live_server, CoordinatorFactory())
    page.screenshot(path=str(artifacts / "coordinator-home.png"))
    assert page.locator('nav a[href="/admin/"]').count() == 0

    # A reader, with an error shown beside its field first.
    page.click("nav >> text=Readers")
    assert page.locator('nav a[aria-current="page"]').inner_text() == "Readers"
    page.click("#add-reader")
    page.fill("#id_username", "dr.lind")
    page.fill("#id_first_name", "Ada")
    page.select_option("#id_specialty", "neuroradiologist")
    page.fill("#id_years_experience", "99")
    page.click("text=Create reader")
    assert "less than or equal to 70" in page.locator("#field-years_experience").inner_text()
    page.screenshot(path=str(artifacts / "coordinator-reader-form-error.png"), full_page=True)
    page.fill("#id_years_experience", "12")
    page.click("text=Create reader")
    assert page.locator("#initial-password").inner_text()
    page.screenshot(path=str(artifacts / "coordinator-reader-created.png"))
    page.goto(f"{live_server.url}/readers/")
    assert "Neuroradiologist" in page.locator("#readers").inner_text()
    page.screenshot(path=str(artifacts / "coordinator-readers.png"))

    # A draft: create, tick, untick.
    page.click("nav >> text=Studies")
    _boxes_aligned(page)
    page.screenshot(path=str(artifacts / "coordinator-study-list.png"), full_page=True)
    page.fill("#id_title", "Browser study")
    page.select_option("#id_design", "sequential")
    page.click("text=Create study")
    study = ReaderStudy.objects.get(title="Browser study")
    for case in (labelled, removed, unlabelled):
        page.check(f'#case-form input[value="{case.pk}"]')
    page.click("text=Save case selection")
    assert "Cases: 3 added, 0 removed." in page.locator(".messages").inner_text()
    page.uncheck(f'#case-form input[value="{removed.pk}"]')
    page.click("text=Save case selection")
    assert "Cases: 0 added, 1 removed." in page.locator(".messages").inner_text()
    assert not page.locator(f'#case-form input[value="{removed.pk}"]').is_checked()
    assert set(study.study_cases.values_list("case_id", flat=True)) == {labelled.pk, unlabelled.pk}
    page.check("#reader-form label:has-text('dr.lind') input")
    page.click("text=Save reader selection")
    page.click("#condition-aided summary")  # the aided condition's assistance settings
    page.select_option("#id_c-aided-model_version", str(model.pk))
    page.click("text=Save Aided")
    assert "Condition “Aided” saved." in page.locator(".messages").inner_text()
    page.select_option("#case-collection-filter", "North")
    assert page.locator(f'#case-form input[value="{unlabelled.pk}"]').is_hidden()
    page.select_option("#case-collection-filter", "")
    _boxes_aligned(page)
    page.screenshot(path=str(artifacts / "coordinator-study-draft.png"), full_page=True)

    page.click("#delete-draft")
    page.screenshot(path=str(artifacts / "coordinator-study-delete.png"))
    page.click("text=Keep it")

    # Opening: refused while a case has no truth, then opened with "truth later".
    page.click("text=Open study (freezes the design)")
    refusal = page.locator(".messages").inner_text()
    assert "no truth for the endpoint" in refusal and unlabelled.code in refusal
    assert labelled.code not in refusal
    page.screenshot(path=str(artifacts / "coordinator-study-open-refused.png"), full_page=True)
    page.check("#id_truth_pending_allowed")
    page.click("text=Open study (freezes the design)")
    assert page.locator("#study-status").inner_text() == "open"
    assert page.locator("#truth-pending").is_visible()
    jobs = page.locator("#model-jobs tbody tr")
    assert jobs.count() == 2
    running = page.locator('#model-jobs tr[data-status="running"]').inner_text()
    assert labelled.code in running and "40%" in running and "about" in running
    assert "not run" in page.locator('#model-jobs tr[data-status="none"]').inner_text()
    assert page.locator('meta[http-equiv="refresh"]').count() == 1
    frozen = page.locator("#frozen-cases").inner_text()
    assert "North" in frozen and "no truth yet" in frozen and removed.code not in frozen
    assert "Neuroradiologist" in page.locator("#study-readers").inner_text()
    page.screenshot(path=str(artifacts / "coordinator-study-open.png"), full_page=True)

    page.goto(f"{live_server.url}/read/")
    assert "This page is for readers; you are signed in as a coordinator." in page.content()
    page.screenshot(path=str(artifacts / "coordinator-403.png"))
