"""Job progress on the three pages that show it, in Debian chromium (1366 x 768).

The same partial (core/_job_progress.html) on the case library's imports, the study page's
model jobs and an analysis run: status, phase, a bar, the error, and a working cancel button.
"""

import hashlib

import pytest

from readerstudy.ai.models import InferenceJob
from readerstudy.cases import uploads
from readerstudy.cases.models import ImportJob
from readerstudy.exports.models import AnalysisRun
from readerstudy.studies.models import AssistanceConfig, ReaderStudy, StudyCase
from tests.browser.helpers import login
from tests.factories import (
    AdminFactory,
    CoordinatorFactory,
    ModelVersionFactory,
    cases_with_series,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _running(job, phase, done, total):
    job = type(job).claim(job.pk)
    job.progress(phase, done=done, total=total)
    return job


def _cancel(page, selector):
    with page.expect_navigation():
        page.locator(f"{selector} button.job-cancel").click()


def test_the_case_library_shows_imports_and_cancels_a_waiting_one(page, live_server, artifacts):
    coordinator = CoordinatorFactory()
    waiting = uploads.create_upload_job(user=coordinator, collection_name="North")
    ImportJob.objects.create(
        source="upload", status="failed", phase="failed", error_code="not_dicom",
        error="no DICOM file among the 3 files",
        errors=[{"code": "not_dicom", "message": "no DICOM file among the 3 files"}],
    )  # fmt: skip
    ImportJob.objects.create(source="folder", status="succeeded", phase="done", done=5, total=5)
    running = _running(ImportJob.objects.create(source="pacs"), "de-identifying", 12, 40)
    login(page, live_server, coordinator)
    page.goto(f"{live_server.url}/cases/")
    progress = page.locator(".job-progress")
    assert progress.count() == 4
    row = page.locator(f'.job-progress:has(button[data-cancel-url*="{waiting.pk}"])')
    assert row.locator(".job-phase").inner_text() == "Waiting for files"
    assert row.locator("button.job-cancel").is_visible()  # the script shows it
    live = page.locator('.job-progress[data-job-status="running"]')
    assert "12 of 40 files" in live.inner_text() and live.locator("progress").count() == 1
    assert live.locator("button.job-cancel").count() == 0  # a running import cannot stop
    assert "not_dicom" in page.locator(".job-error").inner_text()
    page.locator("text=Recent imports").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "jobs-case-library.png"))
    _cancel(page, f'.job-progress:has(button[data-cancel-url*="{waiting.pk}"])')
    waiting.refresh_from_db()
    assert waiting.status == "cancelled"
    assert page.locator('.job-progress[data-job-status="cancelled"]').count() == 1
    assert running.pk


def _study_with_model_jobs(coordinator):
    model = ModelVersionFactory()
    study = ReaderStudy.objects.create(
        title="Model jobs", design="crossover", randomization_seed=1, created_by=coordinator
    )
    AssistanceConfig.objects.update_or_create(study=study, defaults={"model_version": model})
    jobs = []
    for n, case in enumerate(cases_with_series(4)):
        StudyCase.objects.create(study=study, case=case)
        if n < 3:
            jobs.append(InferenceJob.objects.create(
                case=case, series=case.primary_series, model_version=model, params={},
                params_hash=hashlib.sha256(str(n).encode()).hexdigest(),
            ))  # fmt: skip
    _running(jobs[0], "predicting", 40, 100)
    failed = InferenceJob.claim(jobs[1].pk)
    failed.fail("the series has no volume", code="no_volume")
    return study, jobs


def test_the_study_page_shows_model_jobs_and_stops_a_running_one(page, live_server, artifacts):
    coordinator = CoordinatorFactory()
    study, jobs = _study_with_model_jobs(coordinator)
    login(page, live_server, coordinator)
    page.goto(f"{live_server.url}/studies/{study.pk}/")
    running = page.locator('#model-jobs tr[data-status="running"]')
    assert "Predicting" in running.inner_text() and "40%" in running.inner_text()
    assert "no_volume" in page.locator('#model-jobs tr[data-status="failed"]').inner_text()
    assert page.locator('#model-jobs tr[data-status="queued"] button.job-cancel').is_visible()
    assert "not run" in page.locator('#model-jobs tr[data-status="none"]').inner_text()
    page.locator("#inference").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "jobs-study-model-jobs.png"))
    _cancel(page, '#model-jobs tr[data-status="running"]')
    assert "stopping" in page.locator('#model-jobs tr[data-status="running"]').inner_text()
    assert InferenceJob.objects.get(pk=jobs[0].pk).cancel_requested


def test_the_analysis_page_shows_the_run_and_cancels_it(page, live_server, artifacts):
    admin = AdminFactory()
    study = ReaderStudy.objects.create(
        title="Analysed", design="crossover", randomization_seed=1, status="closed"
    )
    run = _running(AnalysisRun.objects.create(study=study, options={}), "files", 2, 5)
    login(page, live_server, admin)
    page.goto(f"{live_server.url}/exports/analyses/{run.pk}/")
    status = page.locator("#analysis-status")
    assert "Running" in status.inner_text() and "2 of 5 files" in status.inner_text()
    assert "Storing the report files" in status.inner_text()
    page.screenshot(path=str(artifacts / "jobs-analysis-running.png"))
    _cancel(page, "#analysis-status")
    assert "stopping" in page.locator("#analysis-status").inner_text()
    run.refresh_from_db()
    assert run.cancel_requested
    with pytest.raises(Exception, match=str(run.pk)):
        run.progress("files", done=3)
    page.reload()
    assert "Cancelled" in page.locator("#analysis-status").inner_text()
    page.screenshot(path=str(artifacts / "jobs-analysis-cancelled.png"))
