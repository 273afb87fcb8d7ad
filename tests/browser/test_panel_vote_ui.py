"""The panel vote and the consensus masks in Debian chromium: the coordinator's panel page
while the vote waits for a worker, after it failed and once it is run again; a study taking
its truth from the panel asks whether to replace a case's imported mask and shows the outcome."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from readerstudy.cases.ingest import import_study
from readerstudy.cases.models import HematomaMask
from readerstudy.panels import masks, services
from readerstudy.panels.models import Panel, PanelTruth, PanelVote
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Design
from tests.browser.helpers import login as _login
from tests.factories import AdjudicatorFactory, AnnotatorFactory, CoordinatorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots/panel")


def _shot(page, name, *, full_page=True):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=full_page)


def _annotate(panel, case, boxes):
    panel_case = panel.panel_cases.get()
    series = case.primary_series
    for seat, cols in zip(panel.annotators.all(), boxes, strict=True):
        array = np.zeros((series.num_slices, series.rows, series.columns), dtype=np.uint8)
        array[2:4, 20:30, cols[0] : cols[1]] = 1
        upload = masks.record_upload(
            seat, panel_case, gzip.compress(array.tobytes()), "application/octet-stream",
            ",".join(map(str, array.shape)),
        )  # fmt: skip
        services.annotate(
            seat.user, panel.pk, case.code,
            {"ich_present": True, "hematoma_mask": {"sha256": upload.sha256}},
        )  # fmt: skip
    return upload


def test_the_vote_on_a_worker_and_the_consensus_as_the_case_mask(
    live_server, page, tmp_path, monkeypatch
):
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "ph", 1, 5, matrix=64, positive_fraction=1.0)
    case = import_study(tmp_path / "ph" / records[0]["case_id"]).case
    coordinator = CoordinatorFactory()
    panel = services.create_panel(
        title="Mask panel", cases=[case], annotators=[AnnotatorFactory() for _ in range(3)],
        adjudicator=AdjudicatorFactory(), labels=["ich_present", "hematoma_mask"],
        created_by=coordinator,
    )  # fmt: skip
    monkeypatch.setattr(services.run_panel_vote, "delay", lambda **kwargs: None)  # no worker
    last = _annotate(panel, case, ((20, 30), (25, 35), (40, 45)))

    _login(page, live_server, coordinator)
    page.goto(f"{live_server.url}/panels/{panel.pk}/")
    assert page.inner_text("#panel-status") == "voting"
    assert page.get_attribute("#panel-vote .job-progress", "data-job-status") == "queued"
    assert "refreshes itself" in page.inner_text("#panel-vote")
    _shot(page, "20-panel-voting.png")

    vote = PanelVote.claim(PanelVote.objects.get(panel=panel).pk)
    vote.fail("the worker ran out of memory", code="MemoryError")
    page.goto(f"{live_server.url}/panels/{panel.pk}/")
    assert "ran out of memory" in page.inner_text("#panel-vote .job-error")
    _shot(page, "21-panel-vote-failed.png")
    monkeypatch.undo()  # the vote runs (eager in tests) once the rerun commits
    page.click("#panel-vote-rerun")
    page.wait_for_selector("#panel-finalize", timeout=60000)
    assert page.inner_text("#panel-status") == "adjudicating"
    _shot(page, "22-panel-voted.png")
    page.click("#panel-finalize")
    page.wait_for_selector("#panel-report-link")
    assert Panel.objects.get().status == Panel.Status.FINISHED

    imported = HematomaMask.objects.create(
        case=case, series=case.primary_series, file=last.file, voxels=last.voxels, volume_ml=1.0
    )
    study = study_services.create_study(title="On the panel", design=Design.UNAIDED_ONLY)
    study_services.add_cases(study, [case])
    page.goto(f"{live_server.url}/studies/{study.pk}/")
    choice = page.inner_text("#truth-masks-choice")
    assert "1 of 1 case already has another truth mask" in choice
    page.select_option("#id_truth_panel", str(panel.pk))
    page.check("#id_masks_replace")
    page.locator("#truth-source-card").screenshot(path=str(SHOTS / "23-study-mask-choice.png"))
    page.click("#truth-source-form button[type=submit]")
    page.wait_for_selector("#truth-mask-writes")
    assert "1 replaced the case's existing mask" in page.inner_text("#truth-mask-writes")
    _shot(page, "24-study-mask-writes.png", full_page=False)
    mask = HematomaMask.objects.get(case=case)
    assert mask.file == PanelTruth.objects.get().mask_file != imported.file
