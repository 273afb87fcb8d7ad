"""The shipped DLRN (seed 001) run by the real runner on an imported phantom with its truth
mask: the covariates come from the case's clinical record, the ROI is the truth mask, and the
signatures, nomogram and features are stored; a covariate the record lacks fails the job
naming it, before the series is read."""

import pytest
from django.core.management import call_command

from readerstudy.ai import runner, services
from readerstudy.ai.models import InferenceJob, InferenceOutput
from readerstudy.ai.registry import register_manifest
from readerstudy.cases.models import Case, ClinicalRecord

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
MODEL = "cvt_hematoma_dlrn"
CLINICAL = {"sex": "F", "seizure_at_admission": True, "headache": True, "age": 36.0}


@pytest.fixture
def case(tmp_path):
    from phantoms import generate_dataset

    out = tmp_path / "ph"
    generate_dataset(out, 1, 11, matrix=128, positive_fraction=1.0)
    call_command("import_cases", str(out), "--labels", str(out / "labels.csv"), "--no-progress")
    case = Case.objects.get()
    assert case.hematoma_mask is not None
    return case


@pytest.fixture
def version():
    from inference.registry import get_model

    return register_manifest(get_model(MODEL).manifest())


def _job(case, version, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        return services.request_inference(case, version, params={"threads": 1})


def test_a_missing_covariate_fails_the_job_naming_it(
    case, version, django_capture_on_commit_callbacks
):
    ClinicalRecord.objects.create(case=case, values={"sex": "F", "age": 50.0})
    job = _job(case, version, django_capture_on_commit_callbacks)
    assert runner.execute(job_id=str(job.pk)) == "failed"
    job = InferenceJob.objects.get(pk=job.pk)
    assert job.status == "failed" and job.error_code == "missing_covariates"
    assert "seizure (clinical seizure_at_admission)" in job.error
    assert "headache" in job.error and "sex_female" not in job.error
    assert not InferenceOutput.objects.exists()


def test_the_dlrn_runs_with_the_records_covariates_and_the_truth_roi(
    case, version, django_capture_on_commit_callbacks
):
    ClinicalRecord.objects.create(case=case, values=CLINICAL)
    job = _job(case, version, django_capture_on_commit_callbacks)
    assert runner.execute(job_id=str(job.pk)) == "done"
    output = InferenceJob.objects.get(pk=job.pk).output
    assert output.provenance["roi_source"] == "mask"
    assert output.provenance["covariates"] == {"sex_female": 1.0, "seizure": 1.0, "headache": 1.0}
    assert set(output.signatures) == {"rad", "dl", "dlr", "dlrn"}
    assert output.signatures["dlrn"] == pytest.approx(output.probabilities["cvt_related"])
    nomogram = output.nomogram
    assert set(nomogram["points"]) == {"dlr_signature", "sex_female", "seizure", "headache"}
    assert nomogram["total_points"] == pytest.approx(sum(nomogram["points"].values()), abs=1e-3)
    # jsonb (PostgreSQL) does not keep the points' key order; the axes list keeps the model's.
    assert [a["variable"] for a in nomogram["axes"]][0] == "dlr_signature"
    assert {a["variable"] for a in nomogram["axes"]} == set(nomogram["points"])
    assert nomogram["probability_axis"] and output.features
    assert all(isinstance(f["importance"], float) for f in output.features)
