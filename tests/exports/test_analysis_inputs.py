"""The in-platform analysis: the study's model scores, cases without truth, the report's header."""

import io
import json

import pandas as pd
import pytest
from django.core.files.storage import default_storage

from readerstudy.ai.models import InferenceOutput
from readerstudy.cases.models import GroundTruth
from readerstudy.exports import runner
from readerstudy.exports.models import AnalysisRun
from readerstudy.studies import services as study_services
from readerstudy.studies.models import AssistanceConfig
from tests.factories import PASSWORD, StatisticianFactory

pytestmark = pytest.mark.django_db


def _run(study) -> AnalysisRun:
    run = AnalysisRun.objects.create(study=study, options={"report": {"n_bootstrap": 200}})
    runner.execute_analysis(run_id=str(run.pk))
    run.refresh_from_db()
    return run


def _file(run, name):
    stored = next(n for n in run.files if n.endswith("/" + name))
    with default_storage.open(stored, "rb") as handle:
        return handle.read()


def _spread_scores(cases):
    """Scores that separate the classes imperfectly, so Table 2 has a real ROC curve."""
    for i, case in enumerate(cases):
        positive = case.ground_truth.etiology == "cvst_ich"
        p = (0.9 if positive else 0.2) - 0.05 * i
        InferenceOutput.objects.filter(job__case=case).update(probabilities={"cvst_ich": p})


def test_the_report_uses_the_study_model_s_scores_for_table2(finished_study):
    study, _, cases = finished_study
    _spread_scores(cases)
    study_services.close_study(study)
    run = _run(study)
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    report = json.loads(_file(run, "report.json"))
    assert report["model_performance"] is not None
    assert report["model_performance"]["auc"]["estimate"] == pytest.approx(1.0)
    assert report["table2"][0]["item"] == "AUC"
    assert "model_performance" not in report["skipped"]
    scores = pd.read_csv(io.BytesIO(_file(run, "scores.csv")))
    assert sorted(scores["case"]) == sorted(c.code for c in cases)
    assert set(scores.columns) == {"case", "truth", "score"}
    html = _file(run, "report.html").decode()
    assert "Table 2" in html and "Model ROC curve" in html


def test_without_a_model_the_report_says_why_there_is_no_table2(finished_study):
    study, _, _ = finished_study
    study_services.close_study(study)
    AssistanceConfig.objects.filter(study=study).update(model_version=None)
    run = _run(study)
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    report = json.loads(_file(run, "report.json"))
    assert report["model_performance"] is None
    assert "no model" in report["skipped"]["model_performance"]


def test_cases_without_truth_are_named_and_left_out(finished_study):
    study, _, cases = finished_study
    _spread_scores(cases)
    GroundTruth.objects.filter(case=cases[0]).delete()
    GroundTruth.objects.filter(case=cases[1]).update(etiology="other")
    study_services.close_study(study)
    run = _run(study)
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    report = json.loads(_file(run, "report.json"))
    reason = report["skipped"]["cases_without_truth"]
    assert cases[0].code in reason and cases[1].code in reason and "2 case(s)" in reason
    reads = pd.read_csv(io.BytesIO(_file(run, "reads.csv")))
    assert not reads["case"].isin([cases[0].code, cases[1].code]).any()
    assert report["meta"]["n_cases"] == 2


def test_a_study_without_any_truth_is_refused_with_the_list(client, finished_study):
    study, _, cases = finished_study
    GroundTruth.objects.all().delete()
    study_services.close_study(study)
    run = _run(study)
    assert run.status == AnalysisRun.Status.FAILED
    assert "no read case has ground truth" in run.error
    assert all(c.code in run.error for c in cases)
    assert "Traceback" not in run.error and "Error:" not in run.error
    client.login(username=StatisticianFactory().username, password=PASSWORD)
    page = client.get(f"/exports/analyses/{run.pk}/")
    assert page.status_code == 200 and cases[0].code in page.content.decode()


def test_the_report_opens_with_the_study_s_description(finished_study):
    study, _, cases = finished_study
    _spread_scores(cases)
    study_services.close_study(study)
    run = _run(study)
    meta = json.loads(_file(run, "report.json"))["meta"]
    assert meta["study"]["title"] == "Export study"
    assert meta["study"]["model_version"] == "cvst_ich_demo 1.0.0"
    html = _file(run, "report.html").decode()
    head = html.split("<h2")[0]
    for text in ("Export study", "Design", "cvst_ich_demo 1.0.0", "Software", "numpy", "Closed"):
        assert text in head, text
    assert "-0.0000" not in html
    assert "vs classification model" not in html


def test_reads_csv_writes_integers_as_integers(client, finished_study):
    study, _, _ = finished_study
    study_services.close_study(study)
    client.login(username=StatisticianFactory().username, password=PASSWORD)
    text = client.get(f"/api/exports/studies/{study.pk}/reads/csv/").content.decode()
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    humans = frame[frame["condition"] != "model"]
    for column in ("session", "position", "years_experience", "active_ms", "truth", "decision"):
        assert not humans[column].str.contains(r"\.").any(), column
    assert set(humans["years_experience"]) == {"5"}
    model = frame[frame["condition"] == "model"]
    assert (model["session"] == "").all()


def test_report_files_open_in_the_browser_and_tables_download(client, finished_study):
    study, _, cases = finished_study
    _spread_scores(cases)
    study_services.close_study(study)
    run = _run(study)
    client.login(username=StatisticianFactory().username, password=PASSWORD)
    html = client.get(f"/api/exports/analyses/{run.pk}/files/report.html")
    assert html["Content-Type"].startswith("text/html")
    assert html["Content-Disposition"].startswith("inline")
    assert "script-src" not in html["Content-Security-Policy"]
    assert "default-src 'none'" in html["Content-Security-Policy"]
    for name, content_type in (("reads.csv", "text/csv"), ("report.json", "application/json")):
        response = client.get(f"/api/exports/analyses/{run.pk}/files/{name}")
        assert response["Content-Type"] == content_type, name
        assert response["Content-Disposition"].startswith("attachment"), name
    page = client.get(f"/exports/analyses/{run.pk}/").content.decode()
    assert "Open the report" in page and 'http-equiv="refresh"' not in page


def test_the_analysis_page_refreshes_itself_while_the_run_is_queued(client, finished_study):
    study, _, _ = finished_study
    study_services.close_study(study)
    run = AnalysisRun.objects.create(study=study)
    client.login(username=StatisticianFactory().username, password=PASSWORD)
    page = client.get(f"/exports/analyses/{run.pk}/").content.decode()
    assert 'http-equiv="refresh"' in page and "refreshes itself" in page
