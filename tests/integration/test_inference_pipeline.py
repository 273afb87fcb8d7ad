"""Phantom series -> inference job on a real worker process -> outputs on the DICOM grid."""

import os
import signal

import numpy as np
import pytest
import SimpleITK as sitk

from readerstudy.ai.models import InferenceJob, InferenceOutput
from readerstudy.ai.outputs import read_volume
from readerstudy.ai.registry import sync_installed_models
from readerstudy.ai.services import request_inference
from readerstudy.cases.ingest import import_study
from readerstudy.cases.storage import local_copy
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
EXPLAIN = ["gradcampp", "ig", "shap", "occlusion"]


@pytest.fixture
def phantom_case(tmp_path):
    from phantoms import generate_dataset, make_case

    # An sICH-like phantom: a compact hematoma, so "near the hematoma" is well defined. (CVST-ICH
    # phantoms put much of the evidence in the wide perihematomal oedema, beyond the box below.)
    records = generate_dataset(tmp_path / "ph", 1, 34, positive_fraction=0.0)
    case = import_study(tmp_path / "ph" / records[0]["case_id"]).case
    truth = make_case(records[0]["seed"], records[0]["label"], case_id=records[0]["case_id"])
    return case, truth


def _read(name):
    volume = read_volume(name)
    return volume, volume.array


def _job(pk) -> InferenceJob:
    return InferenceJob.objects.get(pk=pk)


def test_job_runs_on_a_worker_and_outputs_line_up_with_the_series(worker_factory, phantom_case):
    case, truth = phantom_case
    version = next(v for v in sync_installed_models() if v.model_id == "cvst_ich_demo")
    worker_factory(name="inference")
    job = request_inference(case, version, params={"explain": EXPLAIN})
    assert request_inference(case, version, params={"explain": EXPLAIN}).pk == job.pk  # idempotent
    wait_for(
        lambda: _job(job.pk).status in ("succeeded", "failed"),
        timeout=540,
        interval=1,
        message="the job",
    )
    job = _job(job.pk)
    assert job.status == "succeeded", job.error
    assert job.worker_host and job.timings["total_s"] > 0
    assert job.versions["torch"] and job.timings["segmentation_s"] > 0  # the pipeline's own
    series = case.primary_series
    with local_copy(series.volume) as path:
        volume = sitk.ReadImage(str(path))
    output = job.output
    assert 0.0 <= output.probabilities["cvst_ich"] <= 1.0
    assert set(output.decisions) >= {"high_sensitivity", "high_specificity"}
    mask_image, mask = _read(output.mask)
    assert mask.shape == (series.num_slices, series.rows, series.columns)
    for stored in [mask_image] + [_read(h.file)[0] for h in output.heatmaps.all()]:
        assert stored.array.shape == tuple(reversed(volume.GetSize()))
        assert np.allclose(stored.origin, volume.GetOrigin())
        assert np.allclose(stored.spacing, volume.GetSpacing())
        assert np.allclose(stored.direction, volume.GetDirection())
    assert all(_read(h.file)[1].dtype == np.float16 for h in output.heatmaps.all())
    assert {h.method for h in output.heatmaps.all()} >= set(EXPLAIN)
    # Heatmaps are not constant, and their mass concentrates near the hematoma: the share of
    # |attribution| inside the hematoma's bounding box dilated by 15 mm must be at least twice
    # that box's share of the head volume (a map spread evenly would give a ratio of 1).
    hematoma = truth.mask.astype(bool)
    zz, yy, xx = np.nonzero(hematoma)
    sx, sy, sz = truth.spacing
    pad = (int(np.ceil(15 / sz)), int(np.ceil(15 / sy)), int(np.ceil(15 / sx)))
    box = np.zeros_like(hematoma)
    box[
        max(zz.min() - pad[0], 0) : zz.max() + pad[0] + 1,
        max(yy.min() - pad[1], 0) : yy.max() + pad[1] + 1,
        max(xx.min() - pad[2], 0) : xx.max() + pad[2] + 1,
    ] = True
    head = truth.volume_hu > -200
    box &= head
    for heatmap in output.heatmaps.all():
        data = np.abs(_read(heatmap.file)[1].astype(np.float32))
        assert data.std() > 0, heatmap.method
        share = data[box].sum() / max(data[head].sum(), 1e-12)
        volume_share = box.sum() / head.sum()
        assert share >= 2 * volume_share, (heatmap.method, share, volume_share)
    # The model found the hematoma: the predicted mask overlaps the truth.
    dice = 2 * (mask.astype(bool) & hematoma).sum() / (mask.astype(bool).sum() + hematoma.sum())
    assert dice > 0.3


def test_worker_killed_mid_job_ends_with_exactly_one_completed_job(worker_factory, phantom_case):
    case, _ = phantom_case
    version = next(v for v in sync_installed_models() if v.model_id == "cvst_ich_demo")
    first = worker_factory(name="victim", visibility_timeout=3)
    job = request_inference(case, version, params={"explain": EXPLAIN})
    wait_for(lambda: _job(job.pk).status == "running", timeout=120, message="the job to start")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert _job(job.pk).status == "running"
    worker_factory(name="rescuer", visibility_timeout=3)
    wait_for(
        lambda: _job(job.pk).status in ("succeeded", "failed"),
        timeout=540,
        interval=1,
        message="the redelivered job",
    )
    job = _job(job.pk)
    assert job.status == "succeeded", job.error
    assert job.attempts == 2
    assert InferenceOutput.objects.filter(job=job).count() == 1
    assert (
        InferenceJob.objects.filter(series=case.primary_series, model_version=version).count() == 1
    )
