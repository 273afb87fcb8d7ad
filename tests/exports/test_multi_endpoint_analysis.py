"""The in-platform analysis of a multi-endpoint study: every endpoint reported, the study's
primary endpoint on top, scores per endpoint, and the analysis page linking each section."""

import io
import json

import pandas as pd
import pytest
from django.core.files.storage import default_storage

from readerstudy.exports import runner
from readerstudy.exports.analysis_inputs import analysis_inputs
from readerstudy.exports.models import AnalysisRun
from readerstudy.studies import services as study_services
from tests.exports.multi_endpoint import LABELS, SCORED
from tests.factories import PASSWORD, StatisticianFactory

pytestmark = pytest.mark.django_db


def _run(study, **options) -> AnalysisRun:
    report = {"n_bootstrap": 200, **options}
    run = AnalysisRun.objects.create(study=study, options={"report": report})
    runner.execute_analysis(run_id=str(run.pk))
    run.refresh_from_db()
    return run


def _file(run, name):
    stored = next(n for n in run.files if n.endswith("/" + name))
    with default_storage.open(stored, "rb") as handle:
        return handle.read()


def test_the_inputs_carry_endpoints_and_leave_out_cases_without_truth(multi_endpoint_study):
    study, _, cases = multi_endpoint_study
    inputs = analysis_inputs(study)
    assert inputs.primary_endpoint == "etiology"
    reads = inputs.reads
    assert set(reads["endpoint"]) == {"etiology", "location", *LABELS}
    etiology = reads[reads["endpoint"] == "etiology"]
    assert cases[3].code not in set(etiology["case"])  # no etiology truth
    assert cases[3].code in set(reads[reads["endpoint"] == "any"]["case"])
    location = reads[reads["endpoint"] == "location"]
    assert set(location["case"]) == {c.code for c in cases[:4]}  # ICH-negative: no location
    assert set(location["truth"]) == {"deep", "lobar", "subtentorial"}
    assert "unanswered" in set(location["decision"])  # a reader who saw no bleed
    assert cases[3].code in inputs.skipped["cases_without_truth"]
    assert cases[4].code in inputs.skipped["endpoints.location.cases_outside"]
    scores = inputs.scores
    assert list(scores.columns) == ["case", "endpoint", "truth", "score"]
    assert set(scores["endpoint"]) <= set(SCORED)
    assert "etiology" in set(scores["endpoint"])


def test_a_multi_endpoint_report_has_a_section_per_endpoint(client, multi_endpoint_study):
    study, _, _ = multi_endpoint_study
    study_services.close_study(study)
    run = _run(study)
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    report = json.loads(_file(run, "report.json"))
    assert report["meta"]["primary_endpoint"] == "etiology"
    assert set(report["endpoints"]) == {"etiology", "location", *LABELS}
    assert report["endpoints"]["location"]["kind"] == "multiclass"
    assert report["endpoints"]["iph"]["kind"] == "binary"
    assert set(report["model_performance"]) >= {"etiology", "any"}
    assert report["meta"]["study"]["endpoint"] == "cvst_ich (positive) vs sich"
    reads = pd.read_csv(io.BytesIO(_file(run, "reads.csv")))
    assert "endpoint" in reads.columns
    scores = pd.read_csv(io.BytesIO(_file(run, "scores.csv")))
    assert list(scores.columns) == ["case", "endpoint", "truth", "score"]
    sections = run.summary["endpoint_sections"]
    assert [s["anchor"] for s in sections] == [f"endpoint-{n}" for n in report["endpoints"]]
    html = _file(run, "report.html").decode()
    assert all(f'id="{s["anchor"]}"' in html for s in sections)
    client.login(username=StatisticianFactory().username, password=PASSWORD)
    page = client.get(f"/exports/analyses/{run.pk}/").content.decode()
    assert "report.html#endpoint-location" in page and "Endpoint sah (binary)" in page


def test_the_primary_endpoint_can_be_chosen_and_a_wrong_one_is_refused(multi_endpoint_study):
    study, _, _ = multi_endpoint_study
    study_services.close_study(study)
    run = _run(study, primary_endpoint="any")
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    assert json.loads(_file(run, "report.json"))["meta"]["primary_endpoint"] == "any"
    refused = _run(study, primary_endpoint="nope")
    assert refused.status == AnalysisRun.Status.FAILED
    assert refused.error_code == "unknown_endpoint" and "etiology" in refused.error
