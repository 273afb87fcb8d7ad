"""The job keeps what the pipeline reports: library versions and every step's time.

Before, ``InferenceJob.versions`` stayed ``{}`` and ``timings`` held only the total: the runner
read ``provenance["versions"]`` / ``["timings"]`` while the pipeline writes ``libraries`` and
``timings_s``. This runs the shipped demo model on a phantom, through the real runner.
"""

import pytest
from django.core.management import call_command

from inference.pipeline import library_versions
from readerstudy.ai import runner, services
from readerstudy.ai.models import InferenceJob
from readerstudy.ai.registry import sync_installed_models
from readerstudy.cases.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def case(tmp_path):
    from phantoms import generate_dataset

    generate_dataset(tmp_path / "ph", 1, 12, matrix=128)
    call_command("import_cases", str(tmp_path / "ph"), "--no-progress")
    return Case.objects.get()


def test_a_real_run_stores_the_library_versions_and_the_step_timings(
    case, django_capture_on_commit_callbacks
):
    version = sync_installed_models(only=["cvst_ich_demo"])[0]
    with django_capture_on_commit_callbacks(execute=False):
        job = services.request_inference(
            case, version, params={"explain": ["gradcampp"], "threads": 1}
        )
    assert runner.execute(job_id=str(job.pk)) == "done"
    job = InferenceJob.objects.get(pk=job.pk)
    assert job.status == "succeeded", job.error
    provenance = job.output.provenance
    libraries = library_versions()
    assert {k: v for k, v in job.versions.items() if not k.startswith("model:")} == libraries
    assert job.versions["numpy"] and job.versions["torch"]
    assert job.versions["model:cvst_ich_demo"] == version.version
    steps = {f"{step}_s" for step in provenance["timings_s"] if step != "total"}
    assert steps >= {"preprocess_s", "segmentation_s", "classification_s", "explain_gradcampp_s"}
    assert set(job.timings) >= steps | {"predict_s", "load_s", "save_s", "total_s"}
    assert job.timings["predict_s"] == provenance["timings_s"]["total"]
    assert provenance["device"] == "cpu"  # INFERENCE_DEVICE "auto" on a machine without CUDA
    assert job.timings["total_s"] >= job.timings["predict_s"] > 0
    assert (job.phase, job.done, job.total, job.percent) == ("", 100, 100, 100.0)
    assert job.attempts == 1 and job.worker_host and job.heartbeat_at
    # the seed-000 outputs in the per-label format: its one label's call and map, its mask
    output = job.output
    assert set(output.decisions) == set(version.operating_points)
    assert all(set(calls) == {"cvst_ich"} for calls in output.decisions.values())
    p = output.probabilities["cvst_ich"]
    for point, threshold in version.operating_points.items():
        assert output.decisions[point]["cvst_ich"] == int(p >= threshold)
    assert [(h.method, h.label) for h in output.heatmaps.all()] == [("gradcampp", "cvst_ich")]
    assert output.mask and output.slice_uids == [] and output.slice_probabilities == {}


def test_a_job_cancelled_while_the_model_runs_keeps_no_output(
    case, django_capture_on_commit_callbacks, monkeypatch
):
    """A cancel arriving mid-prediction: the next phase check stops the job, nothing stored."""
    version = sync_installed_models(only=["cvst_ich_demo"])[0]
    with django_capture_on_commit_callbacks(execute=False):
        job = services.request_inference(case, version, params={"explain": [], "threads": 1})
    real_load = runner.load_model

    def load_then_cancel(model_version):  # the coordinator cancels while the model loads
        services.cancel(InferenceJob.objects.get(pk=job.pk))
        return real_load(model_version)

    monkeypatch.setattr(runner, "load_model", load_then_cancel)
    assert runner.execute(job_id=str(job.pk)) == "discarded"
    job = InferenceJob.objects.get(pk=job.pk)
    assert job.status == "cancelled" and job.cancel_requested
    assert not InferenceJob.objects.filter(pk=job.pk, output__isnull=False).exists()
