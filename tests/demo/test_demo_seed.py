"""The demo study opens with its model outputs already there, and re-runs reuse them."""

import pytest

from readerstudy.ai.models import InferenceJob, InferenceOutput
from readerstudy.ai.selectors import latest_output
from readerstudy.demo.seed import compute_outputs, demo_model, ensure_demo_study, import_phantoms
from tests.factories import ReaderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_outputs_exist_before_the_study_opens_and_are_computed_once(tmp_path):
    from phantoms import generate_dataset

    generate_dataset(tmp_path, 2, 11, matrix=128)
    cases = import_phantoms(tmp_path)
    model = demo_model()
    seen = []
    fast = {"explain": ["gradcampp"]}  # the demo's full set takes minutes on two cores

    def report(done, total, job):
        seen.append((done, total, job.status))

    compute_outputs(cases, model, report, params=fast)
    assert [(d, t) for d, t, _ in seen] == [(1, 2), (2, 2)]
    assert {s for *_, s in seen} == {InferenceJob.Status.SUCCEEDED}
    assert InferenceOutput.objects.count() == 2
    study = ensure_demo_study(cases, [ReaderFactory()], model)
    assert study.status == "open"
    for case in cases:
        assert latest_output(series=case.primary_series, model_version=model) is not None
    compute_outputs(cases, model, params=fast)  # a second `make demo` on the same data
    assert InferenceOutput.objects.count() == 2
    assert set(InferenceJob.objects.values_list("attempts", flat=True)) == {1}
