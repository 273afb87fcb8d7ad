"""A slice-level multi-label model (seed 004's, shipped) run by the real runner on an
imported phantom: per-label probabilities and Grad-CAM maps, one slice probability per
instance keyed by its SOP Instance UID, no mask."""

import pytest
from django.core.management import call_command

from readerstudy.ai import runner, services
from readerstudy.ai.labels import scored_labels
from readerstudy.ai.models import InferenceJob
from readerstudy.ai.outputs import read_volume
from readerstudy.ai.registry import register_manifest
from readerstudy.cases.models import Case, Instance

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
MODEL = "ich_subtypes_cnn_bigru"


@pytest.fixture
def case(tmp_path):
    from phantoms import generate_dataset

    generate_dataset(tmp_path / "ph", 1, 21, matrix=128)
    call_command("import_cases", str(tmp_path / "ph"), "--no-progress")
    return Case.objects.get()


def test_the_runner_stores_every_labels_outputs_per_slice(case, django_capture_on_commit_callbacks):
    from inference.registry import get_model

    version = register_manifest(get_model(MODEL).manifest())
    labels = [x.name for x in scored_labels(version)]
    assert len(labels) == 6 and labels[0] == "any"  # any ICH and five subtypes
    with django_capture_on_commit_callbacks(execute=False):
        job = services.request_inference(
            case, version, params={"explain": ["gradcam"], "threads": 1}
        )
    assert runner.execute(job_id=str(job.pk)) == "done"
    job = InferenceJob.objects.get(pk=job.pk)
    output = job.output
    uids = list(
        Instance.objects.filter(series=case.primary_series)
        .order_by("position")
        .values_list("sop_instance_uid", flat=True)
    )
    assert output.mask == "" and output.slice_uids == uids
    assert set(output.slice_probabilities) == set(labels)
    for label in labels:
        values = output.slice_probabilities[label]
        assert len(values) == len(uids) and all(0.0 <= p <= 1.0 for p in values)
        # the scan probability is the maximum over slices (the model's aggregation)
        assert output.probabilities[label] == pytest.approx(max(values), abs=1e-6)
    assert set(output.decisions["default"]) >= set(labels)
    rows = {h.label: h for h in output.heatmaps.all()}
    assert set(rows) == set(labels) and {h.method for h in rows.values()} == {"gradcam"}
    shape = read_volume(rows["any"].file).array.shape
    assert shape[0] == len(uids)  # one map slice per instance, on the DICOM grid
