"""Ground truth reaches nobody the blinding rule withholds it from, on any route that carries it."""

import re

import pytest
from django.urls import get_resolver, reverse

from readerstudy.exports.models import AnalysisRun
from readerstudy.studies import services as study_services
from readerstudy.studies.blinding import truth_access
from readerstudy.studies.models import ReaderStudy
from tests.factories import (
    PASSWORD,
    AdminFactory,
    CoordinatorFactory,
    ReaderFactory,
    StatisticianFactory,
)

pytestmark = pytest.mark.django_db

ROLES = {
    "admin": AdminFactory,
    "coordinator": CoordinatorFactory,
    "statistician": StatisticianFactory,
    "reader": ReaderFactory,
}
# (status, blind_coordinators, statistician_access) -> roles that see truth
TRUTH_TABLE = [
    ("open", True, False, {"admin"}),
    ("open", False, False, {"admin", "coordinator"}),
    ("open", True, True, {"admin", "statistician"}),
    ("closed", True, False, {"admin", "coordinator", "statistician"}),
    ("draft", True, False, {"admin"}),
]


@pytest.mark.parametrize(("status", "blind", "granted", "seeing"), TRUTH_TABLE)
def test_truth_access_by_role_and_study_state(status, blind, granted, seeing):
    study = ReaderStudy(status=status, blind_coordinators=blind, statistician_access=granted)
    for role, factory in ROLES.items():
        access = truth_access(factory(), study)
        assert access.visible == (role in seeing), role
        assert access.visible or access.reason


def _analysis_routes() -> set[str]:
    def walk(patterns, prefix=""):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern)

    return {r for r in walk(get_resolver().url_patterns) if "analys" in r}


def _urls_carrying_truth(study, run) -> dict[str, tuple[str, str]]:
    """Every analysis route, filled in for this study and run: route -> (method, url)."""
    name = run.files[0].rsplit("/", 1)[-1]
    return {
        "api/exports/studies/<int:pk>/analyses/": (
            "get", reverse("export-analyses", args=[study.pk])
        ),
        "api/exports/analyses/<uuid:run_id>/": ("get", reverse("export-analysis", args=[run.pk])),
        "api/exports/analyses/<uuid:run_id>/cancel/": (
            "post", reverse("export-analysis-cancel", args=[run.pk])
        ),
        "api/exports/analyses/<uuid:run_id>/files/<str:name>": (
            "get", reverse("export-analysis-file", args=[run.pk, name])
        ),
        "exports/studies/<int:pk>/analyse/": ("post", reverse("analysis-request", args=[study.pk])),
        "exports/analyses/<uuid:run_id>/": ("get", reverse("analysis-page", args=[run.pk])),
    }  # fmt: skip


def _truth_markers(cases) -> list[str]:
    return [case.code for case in cases]


@pytest.fixture
def analysed_study(client, finished_study, django_capture_on_commit_callbacks):
    """An open, coordinator-blinded study on which an admin already ran an analysis."""
    study, _, cases = finished_study
    assert study.blind_coordinators and study.status == ReaderStudy.Status.OPEN
    client.login(username=AdminFactory().username, password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/exports/studies/{study.pk}/analyses/", {}, content_type="application/json"
        )
    assert response.status_code == 202, response.content
    run = AnalysisRun.objects.get(pk=response.json()["id"])
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    client.logout()
    return study, cases, run


def test_every_analysis_route_is_in_the_walk(analysed_study):
    study, _, run = analysed_study
    assert _analysis_routes() == set(_urls_carrying_truth(study, run))


def _body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode("latin-1")
    return response.content.decode("latin-1")


def test_a_blinded_coordinator_gets_no_analysis_route_until_the_study_closes(
    client, analysed_study
):
    study, cases, run = analysed_study
    client.login(username=CoordinatorFactory().username, password=PASSWORD)
    runs_before = AnalysisRun.objects.count()
    for route, (method, url) in _urls_carrying_truth(study, run).items():
        response = getattr(client, method)(url)
        assert response.status_code in (403, 404), (route, response.status_code)
        body = _body(response)
        assert not any(code in body for code in _truth_markers(cases)), route
        assert "truth" not in body.lower() or "withheld" in body.lower(), route
    assert AnalysisRun.objects.count() == runs_before  # the refused POST queued nothing
    export_page = client.get(reverse("export-list")).content.decode()
    assert str(run.pk) not in export_page and "available when the study closes" in export_page

    study_services.close_study(study)
    for route, (method, url) in _urls_carrying_truth(study, run).items():
        if method == "post":
            continue  # would queue another run; requesting is covered by the analysis tests
        response = client.get(url)
        assert response.status_code == 200, (route, response.status_code)
    download = client.get(reverse("export-analysis-file", args=[run.pk, "reads.csv"]))
    assert "truth" in _body(download).splitlines()[0]


def test_a_statistician_sees_runs_once_granted_and_not_before(client, analysed_study):
    study, _, run = analysed_study
    client.login(username=StatisticianFactory().username, password=PASSWORD)
    detail = reverse("export-analysis", args=[run.pk])
    assert client.get(detail).status_code == 403
    ReaderStudy.objects.filter(pk=study.pk).update(statistician_access=True)
    assert client.get(detail).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        [None, None],
        "a string",
        {"report": [1, 2]},
        {"report": {"n_bootstrap": 10**12}},
        {"report": {"level": 2}},
        {"report": {"no_such_option": 1}},
        {"report": {"operating_point": "no_such_rule"}},
        {"report": {"backend": "sas"}},
    ],
)
def test_a_malformed_analysis_request_is_refused_and_queues_nothing(client, finished_study, body):
    import json

    study, _, _ = finished_study
    study_services.close_study(study)
    client.login(username=StatisticianFactory().username, password=PASSWORD)
    response = client.post(
        f"/api/exports/studies/{study.pk}/analyses/",
        json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert re.search(
        r"report|dictionary|option|bootstrap|level|rule|backend|valid", response.content.decode()
    )
    assert AnalysisRun.objects.count() == 0


def test_the_options_serializer_knows_every_report_option():
    from dataclasses import fields

    from readerstudy.analysis import ReportOptions
    from readerstudy.exports.serializers import ReportOptionsSerializer

    assert set(ReportOptionsSerializer().fields) == {f.name for f in fields(ReportOptions)}
