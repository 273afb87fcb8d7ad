"""A small closed study for the bundle tests: consent, two readers, four cases read unaided then
aided (seed-000 design), model outputs shown and scored."""

from django.test import TestCase

from readerstudy.cases.models import GroundTruth
from readerstudy.panels import services as panel_services
from readerstudy.panels.models import Rule
from readerstudy.reading import consent as reader_consent
from readerstudy.reading import services as reading
from readerstudy.reading.assistance import assistance_payload
from readerstudy.studies import services as study_services
from readerstudy.studies.consent import set_consent_text
from readerstudy.studies.models import Assignment, Design
from readerstudy.studies.truth_source import set_truth_source
from tests.factories import (
    AdjudicatorFactory,
    AnnotatorFactory,
    CoordinatorFactory,
    ModelVersionFactory,
    ReaderFactory,
    cases_with_series,
    make_inference_output,
)


def finished_panel(cases):
    """A finished truth panel of three annotators on the etiology of ``cases`` (unanimous rule):
    A3 disagrees on the second case, which the adjudicator decides; the others are votes."""
    annotators = [AnnotatorFactory() for _ in range(3)]
    adjudicator, coordinator = AdjudicatorFactory(), CoordinatorFactory()
    panel = panel_services.create_panel(
        title="Etiology panel", cases=cases, annotators=annotators, adjudicator=adjudicator,
        labels=["etiology"], rule=Rule.UNANIMOUS, created_by=coordinator,
    )  # fmt: skip
    with TestCase.captureOnCommitCallbacks(execute=True):  # the vote runs (on a worker)
        for i, case in enumerate(cases):
            etiology = "cvst_ich" if i % 2 == 0 else "sich"
            for n, user in enumerate(annotators):
                other = "sich" if etiology == "cvst_ich" else "cvst_ich"
                value = other if (i == 1 and n == 2) else etiology
                panel_services.annotate(user, panel.pk, case.code, {"etiology": value})
    panel_services.adjudicate(adjudicator, panel.pk, cases[1].code, "etiology", "sich")
    return panel_services.finalize(coordinator, panel.pk)


def build_closed_study(n_cases: int = 6, *, truth_panel: bool = False):
    """``truth_panel``: the study's truth comes from a finished panel (the imported truth of
    every case says the opposite, so a study scored on the wrong one would show it)."""
    model = ModelVersionFactory(weights_sha256="a" * 64)
    cases = cases_with_series(n_cases)
    for i, case in enumerate(cases):
        etiology = "cvst_ich" if (i % 2 == 0) != truth_panel else "sich"
        GroundTruth.objects.create(case=case, etiology=etiology, source="labels.csv")
        make_inference_output(case, model)
    study = study_services.create_study(
        title="Bundle study", design=Design.SEQUENTIAL_PER_CASE, randomization_seed=11
    )
    study_services.add_cases(study, cases)
    if truth_panel:
        set_truth_source(study, finished_panel(cases).pk)
    readers = [ReaderFactory(), ReaderFactory()]
    for r in readers:
        study_services.enroll_reader(study, r)
    study_services.configure_assistance(study, model_version=model, heatmaps=["ig"])
    set_consent_text(study, "I agree to read these cases.")
    study = study_services.open_study(study, truth_pending_allowed=False)
    for k, r in enumerate(readers, start=1):
        reader_consent.accept(r, study, 1)
        for a in Assignment.objects.filter(reader__user=r).order_by("position"):
            reading.start(r, a.pk)
            if a.condition == "aided":
                assistance_payload(r, a.pk, url_for=lambda *args: "/x")
            answer = {
                "diagnosis": "cvst_ich" if (a.position + k) % 3 else "sich",
                "confidence": (10 + 7 * a.position + 3 * k) % 101,
            }
            reading.save_draft(r, a.pk, {"diagnosis": "sich"})
            reading.submit(
                r, a.pk, answer, client_request_id=f"{a.pk}", active_ms=1000 + a.position, lock=True
            )
    return study_services.close_study(study)
