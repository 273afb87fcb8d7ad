"""Seed 001 end to end: an imported phantom with its truth mask and clinical data, the DLRN
run by a real worker process (covariates from the clinical record, the truth mask as ROI), then
the aided read's payload shows its nomogram and features, the unaided one nothing of them."""

import pytest
from django.core.management import call_command

from readerstudy.ai.models import InferenceJob
from readerstudy.ai.registry import sync_installed_models
from readerstudy.ai.services import request_inference
from readerstudy.cases.models import Case, ClinicalRecord
from readerstudy.reading import services as reading
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Assignment, Design
from tests.conftest import wait_for
from tests.factories import ReaderFactory

pytestmark = pytest.mark.django_db(transaction=True)
CLINICAL = {"sex": "M", "seizure_at_admission": True, "headache": False, "age": 44.0}


def test_the_dlrn_on_a_worker_feeds_the_aided_nomogram(worker_factory, tmp_path, client):
    from phantoms import generate_dataset

    out = tmp_path / "ph"
    generate_dataset(out, 1, 11, matrix=128, positive_fraction=1.0)
    call_command("import_cases", str(out), "--labels", str(out / "labels.csv"), "--no-progress")
    case = Case.objects.get()
    ClinicalRecord.objects.create(case=case, values=CLINICAL)
    version = next(v for v in sync_installed_models() if v.model_id == "cvt_hematoma_dlrn")
    worker_factory(name="dlrn")
    job = request_inference(case, version, params={"threads": 1})
    wait_for(
        lambda: InferenceJob.objects.get(pk=job.pk).status in ("succeeded", "failed"),
        timeout=300,
        interval=1,
        message="the DLRN job",
    )
    job = InferenceJob.objects.get(pk=job.pk)
    assert job.status == "succeeded", job.error
    assert job.output.provenance["roi_source"] == "mask"
    assert job.output.provenance["covariates"]["seizure"] == 1.0

    study = study_services.create_study(
        title="Seed 001 DLRN", design=Design.SEQUENTIAL_PER_CASE, preset="seed001",
        randomization_seed=4,
    )  # fmt: skip
    study_services.add_cases(study, [case])
    reader = ReaderFactory()
    study_services.enroll_reader(study, reader)
    study_services.configure_assistance(
        study, model_version=version, operating_point="youden", heatmaps=[],
        show_nomogram=True, show_feature_importance=True, show_clinical=["seizure_at_admission"],
    )  # fmt: skip
    study = study_services.open_study(study, truth_pending_allowed=True)
    unaided, aided = Assignment.objects.filter(study=study).order_by("position")
    client.force_login(reader)
    started = client.post(f"/api/reading/assignments/{unaided.pk}/start/")
    assert started.status_code == 200 and "nomogram" not in started.content.decode()
    reading.submit(
        reader, unaided.pk, {"diagnosis": "cvt", "confidence": 70}, client_request_id="u",
        lock=True,
    )  # fmt: skip
    assert client.post(f"/api/reading/assignments/{aided.pk}/start/").status_code == 200
    payload = client.get(f"/api/reading/assignments/{aided.pk}/assistance/").json()
    nomogram = payload["nomogram"]
    assert {v["name"] for v in nomogram["variables"]} == set(job.output.nomogram["points"])
    assert nomogram["probability"] == pytest.approx(job.output.probabilities["cvt_related"])
    assert nomogram["signatures"] == job.output.signatures
    assert payload["feature_importance"]["features"] == job.output.features
    assert payload["clinical"][0]["value"] is True
    assert aided.exposures.get().shown["nomogram"]["total_points"] == nomogram["total_points"]
