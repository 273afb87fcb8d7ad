"""Storing a multi-label prediction: a heatmap file per method and label, slice probabilities
keyed by the series' SOP Instance UIDs, no mask when the model does not segment.

The prediction is a real ``inference.results.Prediction`` fed through the runner's own
storing functions (the part after ``model.predict``).
"""

import numpy as np
import pytest
import SimpleITK as sitk
from django.db import transaction

from inference.geometry import Grid
from inference.results import Heatmap as PredictedHeatmap
from inference.results import Prediction
from readerstudy.ai import runner, services
from readerstudy.ai.labels import scored_labels
from readerstudy.ai.models import InferenceJob
from readerstudy.ai.outputs import read_volume
from readerstudy.cases.models import Instance
from tests.factories import ModelVersionFactory, cases_with_series

pytestmark = pytest.mark.django_db
SHAPE = (5, 8, 8)  # (z, y, x): five slices

MANIFEST = {
    "schema_version": "2.0",
    "labels": [
        {"name": "any", "display": "Any ICH"},
        {"name": "iph", "display": "Intraparenchymal"},
        {"name": "deep", "display": "Deep"},
        {"name": "lobar", "display": "Lobar"},
    ],
    "heads": [
        {"name": "subtypes", "kind": "multi_label", "labels": ["any", "iph"], "slice_level": True},
        {"name": "location", "kind": "multi_class", "labels": ["deep", "lobar"]},
    ],
    "positive_label": "any",
    "explainers": {"gradcam": {"signed": False, "defaults": {"global_scale": 2.0}}},
}


def multi_label_version():
    return ModelVersionFactory(
        model_id="ich_multi_test", version="1.0", manifest=MANIFEST, positive_label="any",
        operating_points={"default": {"any": 0.5, "iph": 0.5}}, explainers=["gradcam"],
    )  # fmt: skip


def series_with_slices(n: int = SHAPE[0]):
    case = cases_with_series(1)[0]
    # created out of order: the stored order must come from the position, not the insert
    for position in (3, 0, 4, 1, 2)[:n]:
        Instance.objects.create(
            series=case.primary_series, sop_instance_uid=f"2.25.77{position}",
            sop_class_uid="1.2", transfer_syntax_uid="1.2.840.10008.1.2.1", position=position,
            file=f"x/{position}", sha256="0" * 64, size=1, pixel_offset=0, pixel_length=1,
            metadata={},
        )  # fmt: skip
    return case


def prediction(slices: int = SHAPE[0]) -> Prediction:
    reference = sitk.GetImageFromArray(np.zeros(SHAPE, dtype=np.float32))
    rng = np.random.default_rng(1)
    maps = {}
    for label in ("any", "iph"):
        heatmap = PredictedHeatmap(
            method="gradcam", label=label, signed=False,
            array=rng.random(SHAPE).astype(np.float16), params={"scale": 1.5},
            passes={"forward": 1, "backward": 1}, seconds=0.01,
        )  # fmt: skip
        maps[heatmap.key] = heatmap
    return Prediction(
        model_id="ich_multi_test", model_version="1.0", positive_label="any",
        probabilities={"any": 0.9, "iph": 0.7, "location": {"deep": 0.8, "lobar": 0.2}},
        decisions={"default": {"any": 1, "iph": 1, "deep": 1, "lobar": 0}},
        thresholds={"default": {"any": 0.5, "iph": 0.5}}, heatmaps=maps,
        grid=Grid.from_sitk(reference), provenance={"model": {"id": "ich_multi_test"}},
        slice_probabilities={
            "any": [0.1, 0.2, 0.9, 0.8, 0.1][:slices], "iph": [0.0, 0.1, 0.7, 0.6, 0.0][:slices]
        },
    )  # fmt: skip


def _job(case, version, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        return services.request_inference(case, version, params={"explain": ["gradcam"]})


def test_a_multi_label_prediction_is_stored_per_label_and_per_slice(
    django_capture_on_commit_callbacks,
):
    case = series_with_slices()
    job = _job(case, multi_label_version(), django_capture_on_commit_callbacks)
    pred = prediction()
    image = pred.grid.image(np.zeros(SHAPE, dtype=np.float32))
    slices = runner.slice_outputs(case.primary_series_id, pred)
    saved = runner.save_files(pred, image)
    with transaction.atomic():
        output = runner.store_output(job, pred, saved, slices)
    assert output.mask == ""  # the model does not segment
    assert output.slice_uids == [f"2.25.77{i}" for i in range(5)]  # position order
    assert output.slice_probabilities["any"] == pytest.approx([0.1, 0.2, 0.9, 0.8, 0.1])
    assert output.decisions == {"default": {"any": 1, "iph": 1, "deep": 1, "lobar": 0}}
    rows = {h.label: h for h in output.heatmaps.all()}
    assert set(rows) == {"any", "iph"} and rows["any"].file != rows["iph"].file
    for label, row in rows.items():
        stored = read_volume(row.file).array
        np.testing.assert_array_equal(stored, pred.heatmap("gradcam", label).array)
        assert row.params == {"scale": 1.5} and row.passes == 2


def test_a_slice_count_other_than_the_series_fails_the_job(
    django_capture_on_commit_callbacks, monkeypatch
):
    """Four slice probabilities for a five-slice series cannot be placed: the job fails with
    the counts, and nothing is stored."""
    case = series_with_slices()
    job = _job(case, multi_label_version(), django_capture_on_commit_callbacks)
    pred = prediction(slices=4)
    image = pred.grid.image(np.zeros(SHAPE, dtype=np.float32))
    monkeypatch.setattr(runner, "_predict", lambda job, steps: (image, pred))
    with pytest.raises(runner.SliceMismatch):
        runner.execute(job_id=str(job.pk))
    job = InferenceJob.objects.get(pk=job.pk)
    assert job.status == "failed" and job.error_code == "SliceMismatch"
    assert "have 4 values; the series has 5 slices" in job.error
    assert not InferenceJob.objects.filter(pk=job.pk, output__isnull=False).exists()


def test_labels_read_from_a_2_0_manifest_and_from_an_older_one():
    labels = scored_labels(multi_label_version())
    assert [(x.name, x.display, x.head, x.kind) for x in labels] == [
        ("any", "Any ICH", "subtypes", "multi_label"),
        ("iph", "Intraparenchymal", "subtypes", "multi_label"),
        ("deep", "Deep", "location", "multi_class"),
        ("lobar", "Lobar", "location", "multi_class"),
    ]
    old = ModelVersionFactory(manifest={"labels": ["cvst_ich", "sich"]})
    assert [(x.name, x.display, x.kind) for x in scored_labels(old)] == [
        ("cvst_ich", "CVST-ICH", "binary")
    ]
