"""Which queue a model job goes to, and the device the worker passes to the model."""

import pytest

from readerstudy.ai import runner, services, tasks
from readerstudy.ai.models import InferenceJob
from tests.factories import ModelVersionFactory, cases_with_series

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(
        tasks.run_inference, "apply_async", lambda **kw: calls.append((kw["queue"], kw["kwargs"]))
    )
    return calls


def _request(model, capture):
    case = cases_with_series(1)[0]
    with capture(execute=True):
        return services.request_inference(case, model, params={"explain": []})


def test_cpu_models_go_to_the_configured_inference_queue(sent, django_capture_on_commit_callbacks):
    job = _request(
        ModelVersionFactory(manifest={"requirements": {"device": "cpu"}}),
        django_capture_on_commit_callbacks,
    )
    assert sent == [("inference-cpu", {"job_id": str(job.pk)})]


def test_a_manifest_requiring_cuda_goes_to_the_gpu_queue(sent, django_capture_on_commit_callbacks):
    model = ModelVersionFactory(model_id="big", manifest={"requirements": {"device": "cuda"}})
    job = _request(model, django_capture_on_commit_callbacks)
    assert sent == [("inference-gpu", {"job_id": str(job.pk)})]


def test_the_setting_marks_a_model_gpu(sent, settings, django_capture_on_commit_callbacks):
    settings.INFERENCE_GPU_MODELS = ["ich_subtypes_cnn_bigru"]
    gpu = ModelVersionFactory(model_id="ich_subtypes_cnn_bigru", manifest={})
    cpu = ModelVersionFactory(model_id="cvst_ich_demo", manifest={})
    assert tasks.inference_queue(gpu) == "inference-gpu"
    assert tasks.inference_queue(cpu) == "inference-cpu"
    _request(gpu, django_capture_on_commit_callbacks)
    assert [q for q, _ in sent] == ["inference-gpu"]


@pytest.fixture
def imported_case(tmp_path):
    from django.core.management import call_command

    from phantoms import generate_dataset
    from readerstudy.cases.models import Case

    generate_dataset(tmp_path / "ph", 1, 12, matrix=64)
    call_command("import_cases", str(tmp_path / "ph"), "--no-progress")
    return Case.objects.get()


@pytest.mark.slow
def test_the_worker_passes_the_device_setting_and_cuda_without_cuda_fails_clearly(
    imported_case, settings, monkeypatch, django_capture_on_commit_callbacks
):
    import torch

    from readerstudy.ai.registry import sync_installed_models

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    settings.INFERENCE_DEVICE = "cuda"
    model = sync_installed_models(only=["cvst_ich_demo"])[0]
    with django_capture_on_commit_callbacks(execute=False):
        job = services.request_inference(imported_case, model, params={"explain": []})
    with pytest.raises(Exception, match="CUDA is not available"):
        runner.execute(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.status == InferenceJob.Status.FAILED
    assert "'cuda' was requested but CUDA is not available" in job.error
