import pytest

from readerstudy.cases.models import GroundTruth
from readerstudy.studies.models import Assignment, ReaderStudy
from tests.factories import (
    PASSWORD,
    CoordinatorFactory,
    ModelVersionFactory,
    ReaderFactory,
    StatisticianFactory,
    cases_with_series,
)

pytestmark = pytest.mark.django_db


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_coordinator_builds_and_opens_a_study_through_the_api(client):
    _login(client, CoordinatorFactory())
    cases = cases_with_series(4)
    readers = [ReaderFactory() for _ in range(2)]
    model = ModelVersionFactory()
    r = client.post(
        "/api/studies/",
        {"title": "CVST", "design": "sequential", "randomization_seed": 42},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    sid = r.json()["id"]
    assert r.json()["randomization_seed"] == 42
    assert (
        client.post(
            f"/api/studies/{sid}/cases/",
            {"case_codes": [c.code for c in cases]},
            content_type="application/json",
        ).status_code
        == 200
    )
    r = client.post(
        f"/api/studies/{sid}/readers/",
        {"usernames": [u.username for u in readers]},
        content_type="application/json",
    )
    assert r.status_code == 200
    r = client.patch(
        f"/api/studies/{sid}/assistance/",
        {"model_version": model.pk, "heatmaps": ["ig"], "operating_point": "high_sensitivity"},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    r = client.post(f"/api/studies/{sid}/open/")
    assert r.status_code == 409, r.content  # no truth yet: refused, naming the cases
    assert r.json()["code"] == "truth_missing"
    assert all(c.code in r.json()["detail"] for c in cases)
    for case in cases:
        GroundTruth.objects.create(case=case, etiology="sich")
    r = client.post(f"/api/studies/{sid}/open/")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "open"
    assert r.json()["truth_pending_allowed"] is False
    assert Assignment.objects.filter(study_id=sid).count() == 2 * 4 * 2
    progress = client.get(f"/api/studies/{sid}/progress/").json()
    assert [p["total"] for p in progress] == [8, 8]
    r = client.post(
        f"/api/studies/{sid}/cases/",
        {"case_codes": [cases[0].code]},
        content_type="application/json",
    )
    assert r.status_code == 409
    assert r.json()["code"] == "design_frozen"


def test_api_errors_name_the_problem(client):
    _login(client, CoordinatorFactory())
    sid = client.post(
        "/api/studies/", {"title": "x", "design": "sequential"}, content_type="application/json"
    ).json()["id"]
    r = client.post(
        f"/api/studies/{sid}/cases/", {"case_codes": ["NOPE-1"]}, content_type="application/json"
    )
    assert r.status_code == 400
    assert "NOPE-1" in r.json()["detail"]
    r = client.patch(
        f"/api/studies/{sid}/assistance/",
        {"operating_point": "youden", "model_version": ModelVersionFactory().pk},
        content_type="application/json",
    )
    assert r.status_code == 400
    assert "no operating point 'youden'" in r.json()["detail"]


@pytest.mark.parametrize("factory", [ReaderFactory, StatisticianFactory])
def test_only_coordinators_design_studies(client, factory):
    _login(client, factory())
    assert client.get("/api/studies/").status_code == 403
    assert (
        client.post(
            "/api/studies/", {"title": "x", "design": "sequential"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert client.get("/studies/").status_code == 403  # signed in: told whom the page is for
    assert not ReaderStudy.objects.exists()


def test_coordinator_pages_create_configure_and_open(client):
    _login(client, CoordinatorFactory())
    cases = cases_with_series(3)
    reader = ReaderFactory()
    model = ModelVersionFactory()
    r = client.post(
        "/studies/", {"title": "Page study", "design": "two_sessions", "washout_days": 14}
    )
    assert r.status_code == 302
    study = ReaderStudy.objects.get(title="Page study")
    client.post(f"/studies/{study.pk}/cases/", {"cases": [c.pk for c in cases]})
    client.post(f"/studies/{study.pk}/readers/", {"readers": [reader.pk]})
    client.post(
        f"/studies/{study.pk}/assistance/",
        {
            "model_version": model.pk,
            "operating_point": "high_sensitivity",
            "show_probability": "on",
            "heatmaps": ["gradcampp", "shap"],
            "heatmap_opacity": "0.5",
        },
    )
    r = client.post(f"/studies/{study.pk}/open/", {"truth_pending_allowed": "on"}, follow=True)
    study.refresh_from_db()
    assert study.status == "open", r.content.decode()[:2000]
    assert study.truth_pending_allowed
    assert study.assistance.heatmaps == ["gradcampp", "shap"]
    page = client.get(f"/studies/{study.pk}/").content.decode()
    assert "Readers and their progress" in page and reader.username in page
    r = client.post(f"/studies/{study.pk}/cases/", {"cases": [cases[0].pk]}, follow=True)
    assert "can no longer change" in r.content.decode()
