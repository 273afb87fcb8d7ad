import pytest

from readerstudy.cases.models import GroundTruth
from readerstudy.reading import services as reading
from readerstudy.reading.assistance import assistance_payload
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Assignment, Design
from tests.factories import (
    ModelVersionFactory,
    ReaderFactory,
    cases_with_series,
    make_inference_output,
)


@pytest.fixture
def finished_study():
    """Two readers read 4 cases unaided then aided (seed-000 design); the study is open."""
    model = ModelVersionFactory()
    cases = cases_with_series(4)
    for i, case in enumerate(cases):
        GroundTruth.objects.create(case=case, etiology="cvst_ich" if i % 2 == 0 else "sich")
        make_inference_output(case, model)
    study = study_services.create_study(
        title="Export study", design=Design.SEQUENTIAL_PER_CASE, randomization_seed=8
    )
    study_services.add_cases(study, cases)
    readers = [ReaderFactory(), ReaderFactory()]
    for r in readers:
        study_services.enroll_reader(study, r)
    study_services.configure_assistance(study, model_version=model, heatmaps=["ig"])
    study = study_services.open_study(study, truth_pending_allowed=False)
    for r in readers:
        for a in Assignment.objects.filter(reader__user=r).order_by("position"):
            reading.start(r, a.pk)
            if a.condition == "aided":  # what the workspace does: fetch (and record) the assistance
                assistance_payload(r, a.pk, url_for=lambda *args: "/x")
            answer = {
                "diagnosis": "cvst_ich" if a.position % 3 else "sich",
                "confidence": 10 + a.position,
            }
            reading.save_draft(r, a.pk, {"diagnosis": "sich"})
            reading.submit(
                r, a.pk, answer, client_request_id=f"{a.pk}", active_ms=1000 + a.position, lock=True
            )
    return study, readers, cases


@pytest.fixture
def multi_endpoint_study():
    """Three readers read 6 cases for three endpoints (etiology, ICH subtypes, location)."""
    from tests.exports.multi_endpoint import build

    return build()
