"""A study with practice cases for the practice tests: an open sequential study of seed 000
(binary etiology primary endpoint), three study cases, three practice cases with truth
(cvst_ich, sich, cvst_ich) and model outputs, and two readers."""

from readerstudy.cases.models import GroundTruth
from readerstudy.studies import practice_services, services
from readerstudy.studies.models import Design
from readerstudy.studies.practice import PracticeRule
from tests.factories import CoordinatorFactory, cases_with_series, make_inference_output

PRACTICE_TRUTH = ["cvst_ich", "sich", "cvst_ich"]


def answer(diagnosis: str) -> dict:
    return {"diagnosis": diagnosis, "confidence": 70}


def build(make_study, *, rule=PracticeRule.AT_LEAST, k=2, max_attempts=2, design=None, heatmaps=()):
    """``heatmaps``: the methods the aided condition shows (each practice case's output has
    Grad-CAM++ and IG maps when any is asked for)."""
    study, readers = make_study(design or Design.SEQUENTIAL_PER_CASE, n_cases=3, open_it=False)
    if heatmaps:
        services.configure_assistance(study, heatmaps=list(heatmaps))
    coordinator = CoordinatorFactory()
    for sc in study.study_cases.select_related("case"):
        GroundTruth.objects.create(case=sc.case, etiology="sich")
    practice = []
    version = study.assistance.model_version
    for case, truth in zip(cases_with_series(3), PRACTICE_TRUTH, strict=True):
        GroundTruth.objects.create(case=case, etiology=truth)
        make_inference_output(case, version, methods=("gradcampp", "ig") if heatmaps else ())
        practice.append(practice_services.add_case(study, case, by=coordinator))
    practice_services.configure(
        study, by=coordinator, task_text="Decide CVST-related ICH or spontaneous ICH.",
        rule=rule, min_correct=k if rule == PracticeRule.AT_LEAST else None,
        max_attempts=max_attempts,
    )  # fmt: skip
    study = services.open_study(study, truth_pending_allowed=True)
    return study, readers, practice, coordinator
