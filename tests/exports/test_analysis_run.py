import json

import pytest
from django.core.files.storage import default_storage

from readerstudy.exports.models import AnalysisRun
from readerstudy.studies import services as study_services
from tests.factories import PASSWORD, StatisticianFactory

pytestmark = pytest.mark.django_db


def test_run_analysis_on_a_closed_study_builds_the_report(
    client, finished_study, django_capture_on_commit_callbacks
):
    study, _, _ = finished_study
    client.login(username=StatisticianFactory().username, password=PASSWORD)
    assert (
        client.post(f"/api/exports/studies/{study.pk}/analyses/").status_code == 403
    )  # still open
    study_services.close_study(study)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/exports/studies/{study.pk}/analyses/", {}, content_type="application/json"
        )
    assert response.status_code == 202, response.content
    run = AnalysisRun.objects.get(pk=response.json()["id"])
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    names = {n.rsplit("/", 1)[-1] for n in run.files}
    assert "reads.csv" in names
    report_name = next(n for n in run.files if n.endswith(".json"))
    with default_storage.open(report_name) as handle:
        report = json.load(handle)
    contrast = report["lmm"]["accuracy"]["contrasts"]["aided - unaided"]
    assert set(contrast) >= {"estimate", "se", "df", "t", "p", "ci_low", "ci_high"}
    detail = client.get(f"/api/exports/analyses/{run.pk}/").json()
    assert detail["status"] == "succeeded"
    download = client.get(detail["files"][0]["url"])
    assert download.status_code == 200
