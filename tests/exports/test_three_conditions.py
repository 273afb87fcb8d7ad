"""A study of three conditions exports every condition's reads and is analysed in all three."""

import json

import pytest
from django.core.files.storage import default_storage

from readerstudy.cases.models import GroundTruth
from readerstudy.exports import runner
from readerstudy.exports.models import AnalysisRun
from readerstudy.exports.reads import reads_table
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

pytestmark = pytest.mark.django_db
CONDITIONS = ["unaided", "probability", "maps"]


@pytest.fixture
def three_condition_study():
    model = ModelVersionFactory()
    cases = cases_with_series(6)
    for i, case in enumerate(cases):
        GroundTruth.objects.create(case=case, etiology="cvst_ich" if i % 2 == 0 else "sich")
        make_inference_output(case, model)
    study = study_services.create_study(
        title="k=3", design=Design.SEQUENTIAL_PER_CASE, randomization_seed=8,
        conditions=[
            {"code": "unaided", "name": "Unaided"},
            {"code": "probability", "name": "Probability",
             "assistance": {"model_version": model, "heatmaps": []}},
            {"code": "maps", "name": "Maps", "assistance": {"model_version": model,
                                                            "heatmaps": ["ig"]}},
        ],
    )  # fmt: skip
    study_services.add_cases(study, cases)
    readers = [ReaderFactory() for _ in range(3)]
    for r in readers:
        study_services.enroll_reader(study, r)
    study = study_services.open_study(study, truth_pending_allowed=False)
    for n, r in enumerate(readers):
        for a in Assignment.objects.filter(reader__user=r).order_by("position"):
            reading.start(r, a.pk)
            if a.condition != "unaided":
                assistance_payload(r, a.pk, url_for=lambda *args: "/x")
            step = CONDITIONS.index(a.condition)
            right = a.study_case.case.ground_truth.etiology
            wrong = "sich" if right == "cvst_ich" else "cvst_ich"
            answer = {
                "diagnosis": right if (a.position + n + step) % 3 else wrong,
                "confidence": min(99, 10 + 7 * a.position + 5 * step + n),
            }
            reading.submit(r, a.pk, answer, client_request_id=f"{a.pk}", lock=True)
    study_services.close_study(study)
    return study


def test_reads_export_writes_each_read_s_condition_code(three_condition_study):
    frame = reads_table(three_condition_study, with_truth=True, include_model=False)
    assert sorted(frame["condition"].unique()) == sorted(CONDITIONS)
    assert frame.groupby("condition").size().to_dict() == {c: 18 for c in CONDITIONS}
    shown = frame[frame["condition"] == "maps"]["assistance_shown"]
    assert all(s["heatmaps"] == ["ig"] for s in shown)


def test_run_analysis_analyses_every_condition_against_unaided(three_condition_study):
    run = AnalysisRun.objects.create(
        study=three_condition_study, options={"report": {"n_bootstrap": 100}}
    )
    runner.execute_analysis(run_id=str(run.pk))
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    stored = next(n for n in run.files if n.endswith("/report.json"))
    with default_storage.open(stored, "rb") as handle:
        report = json.loads(handle.read())
    assert set(CONDITIONS) <= set(run.summary["conditions"]), run.summary
    assert report["meta"]["conditions"] == run.summary["conditions"], list(report)


def test_run_analysis_reports_conditions_in_the_study_order(three_condition_study):
    """Not in reading order: the study's condition order orients every reported difference."""
    from readerstudy.exports.analysis_inputs import analysis_inputs

    study = three_condition_study
    table = reads_table(study, with_truth=True, include_model=False)
    assert list(dict.fromkeys(table["condition"])) == CONDITIONS  # read in this order
    study.conditions.filter(code="maps").update(order=1)
    study.conditions.filter(code="probability").update(order=2)
    reads = analysis_inputs(study).reads
    assert list(dict.fromkeys(reads["condition"])) == ["unaided", "maps", "probability", "model"]
    assert len(reads) == len(reads_table(study, with_truth=True))
