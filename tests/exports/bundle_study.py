"""A small closed study for the bundle tests: consent, two readers, four cases read unaided then
aided (seed-000 design), model outputs shown and scored."""

from readerstudy.cases.models import GroundTruth
from readerstudy.reading import consent as reader_consent
from readerstudy.reading import services as reading
from readerstudy.reading.assistance import assistance_payload
from readerstudy.studies import services as study_services
from readerstudy.studies.consent import set_consent_text
from readerstudy.studies.models import Assignment, Design
from tests.factories import (
    ModelVersionFactory,
    ReaderFactory,
    cases_with_series,
    make_inference_output,
)


def build_closed_study(n_cases: int = 6):
    model = ModelVersionFactory(weights_sha256="a" * 64)
    cases = cases_with_series(n_cases)
    for i, case in enumerate(cases):
        GroundTruth.objects.create(
            case=case, etiology="cvst_ich" if i % 2 == 0 else "sich", source="labels.csv"
        )
        make_inference_output(case, model)
    study = study_services.create_study(
        title="Bundle study", design=Design.SEQUENTIAL_PER_CASE, randomization_seed=11
    )
    study_services.add_cases(study, cases)
    readers = [ReaderFactory(), ReaderFactory()]
    for r in readers:
        study_services.enroll_reader(study, r)
    study_services.configure_assistance(study, model_version=model, heatmaps=["ig"])
    set_consent_text(study, "I agree to read these cases.")
    study = study_services.open_study(study, truth_pending_allowed=False)
    for r in readers:
        reader_consent.accept(r, study, 1)
        for a in Assignment.objects.filter(reader__user=r).order_by("position"):
            reading.start(r, a.pk)
            if a.condition == "aided":
                assistance_payload(r, a.pk, url_for=lambda *args: "/x")
            answer = {
                "diagnosis": "cvst_ich" if (a.position + a.reader_id) % 3 else "sich",
                "confidence": (10 + 7 * a.position + 3 * a.reader_id) % 101,
            }
            reading.save_draft(r, a.pk, {"diagnosis": "sich"})
            reading.submit(
                r, a.pk, answer, client_request_id=f"{a.pk}", active_ms=1000 + a.position, lock=True
            )
    return study_services.close_study(study)
