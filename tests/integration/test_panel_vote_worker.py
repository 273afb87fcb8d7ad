"""The panel vote on the real stack: the last annotation's commit queues it, a separate worker
process votes the items and the hematoma masks, and the panel moves on to adjudication."""

import gzip

import numpy as np
import pytest

from readerstudy.cases.ingest import import_study
from readerstudy.panels import masks, services
from readerstudy.panels.models import ConsensusMask, Panel, PanelItem, PanelVote
from tests.conftest import wait_for
from tests.factories import AdjudicatorFactory, AnnotatorFactory, CoordinatorFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_queue")]


def _box_mask(seat, panel_case, cols) -> dict:
    """The annotator's upload of a box at ``cols`` on the case's grid."""
    series = panel_case.case.primary_series
    array = np.zeros((series.num_slices, series.rows, series.columns), dtype=np.uint8)
    array[2:4, 20:30, cols[0] : cols[1]] = 1
    shape = ",".join(map(str, array.shape))
    upload = masks.record_upload(
        seat, panel_case, gzip.compress(array.tobytes()), "application/octet-stream", shape
    )
    return {"sha256": upload.sha256}


def test_a_worker_votes_the_panel(worker_factory, tmp_path):
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "ph", 1, 5, matrix=64, positive_fraction=1.0)
    case = import_study(tmp_path / "ph" / records[0]["case_id"]).case
    annotators = [AnnotatorFactory() for _ in range(3)]
    panel = services.create_panel(
        title="Worker panel", cases=[case], annotators=annotators,
        adjudicator=AdjudicatorFactory(), labels=["ich_present", "hematoma_mask"],
        created_by=CoordinatorFactory(),
    )  # fmt: skip
    worker_factory(name="voter", queues="default")
    panel_case = panel.panel_cases.get()
    for seat, cols in zip(panel.annotators.all(), ((20, 30), (25, 35), (40, 45)), strict=True):
        mask = _box_mask(seat, panel_case, cols)
        services.annotate(
            seat.user, panel.pk, case.code, {"ich_present": True, "hematoma_mask": mask}
        )

    def voted():
        vote = PanelVote.objects.filter(panel=panel).first()
        return vote if vote is not None and vote.is_terminal else None

    vote = wait_for(voted, timeout=120, interval=0.2, message="the worker to vote the panel")
    assert vote.status == "succeeded", vote.error
    assert vote.worker_host and vote.attempts == 1
    panel.refresh_from_db()
    assert panel.status == Panel.Status.ADJUDICATING
    assert PanelItem.objects.filter(panel_case__panel=panel).count() == 1  # ich_present
    assert ConsensusMask.objects.get(panel_case=panel_case).voxels == 2 * 10 * 5
