"""Each case's page and truth API: the labels CSV's rules, stored atomically, coordinators only."""

import pytest
from django.test import Client

from readerstudy.cases.models import Case, GroundTruth
from tests.factories import (
    PASSWORD,
    AdminFactory,
    CoordinatorFactory,
    ReaderFactory,
    SeriesFactory,
    StatisticianFactory,
)

pytestmark = pytest.mark.django_db


def _client(factory) -> Client:
    client = Client()
    user = factory()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def case():
    return SeriesFactory(description="AXIAL HEAD", series_number=3).case


@pytest.fixture
def coordinator():
    return _client(CoordinatorFactory)


def test_library_rows_link_to_the_case_page_which_shows_the_case(coordinator, case):
    assert f'href="/cases/{case.code}/"' in coordinator.get("/cases/").content.decode()
    page = coordinator.get(f"/cases/{case.code}/").content.decode()
    for fact in (case.code, "AXIAL HEAD", "512 × 512", "0.45 × 0.45 × 5.00", ">30<"):
        assert fact in page, fact
    assert '<dd id="case-labelled">no</dd>' in page


def test_page_form_sets_then_edits_the_truth(coordinator, case):
    form = {"label": "cvst_ich", "ich_present": "1", "subtypes": "IPH;SAH",
            "location": "lobar", "site": "Site B"}  # fmt: skip
    r = coordinator.post(f"/cases/{case.code}/", form, follow=True)
    assert r.status_code == 200
    assert f"Ground truth of {case.code} saved." in r.content.decode()
    assert '<dd id="case-labelled">yes</dd>' in r.content.decode()
    truth = GroundTruth.objects.get(case=case)
    assert (truth.etiology, truth.ich_present, truth.subtypes, truth.location, truth.source) == (
        "cvst_ich", True, ["IPH", "SAH"], "lobar", "case page"
    )  # fmt: skip
    assert Case.objects.get(pk=case.pk).site == "Site B"
    truth.covariates = {"age": "61"}
    truth.save()
    edit = {"label": "sich", "ich_present": "", "subtypes": "", "location": "", "site": ""}
    coordinator.post(f"/cases/{case.code}/", edit)
    truth.refresh_from_db()
    assert (truth.etiology, truth.ich_present, truth.subtypes) == ("sich", None, [])
    assert truth.covariates == {"age": "61"}  # the page does not touch covariates
    assert Case.objects.get(pk=case.pk).site == ""


def test_page_refuses_what_the_csv_refuses_and_stores_nothing(coordinator, case):
    form = {"label": "", "ich_present": "1", "location": "x" * 33, "site": "ok"}
    r = coordinator.post(f"/cases/{case.code}/", form)
    assert r.status_code == 400
    page = r.content.decode()
    assert '<p class="error" id="label-error">&#x27;label&#x27; is empty</p>' in page
    assert "&#x27;location&#x27; is longer than 32 characters" in page
    assert not GroundTruth.objects.exists()
    assert Case.objects.get(pk=case.pk).site == ""


def test_api_reads_and_replaces_the_truth(coordinator, case):
    url = f"/api/cases/{case.code}/truth/"
    body = coordinator.get(url).json()
    assert body["labelled"] is False and body["label"] == "" and body["ich_present"] is None
    new = {"label": "cvst_ich", "ich_present": False, "subtypes": ["IVH"], "site": "Site C"}
    r = coordinator.put(url, new, content_type="application/json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["labelled"] is True and body["case"] == case.code
    assert (body["label"], body["ich_present"], body["subtypes"], body["site"]) == (
        "cvst_ich", False, ["IVH"], "Site C"
    )  # fmt: skip
    assert body["source"] == "api" and body["updated_at"]
    assert coordinator.get(url).json() == body


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"label": ""}, "label", "'label' is empty"),
        ({"label": "x" * 33}, "label", "'label' is longer than 32 characters"),
        ({"label": "sich", "subtypes": ["A;B"]}, "subtypes", "a subtype cannot contain ';'"),
        ({"label": "sich", "site": "s" * 121}, "site", "'site' is longer than 120 characters"),
        ({"label": "sich", "ich_present": "maybe"}, "ich_present", "Must be a valid boolean."),
    ],
)
def test_api_refuses_by_the_csv_rules(coordinator, case, body, field, message):
    r = coordinator.put(f"/api/cases/{case.code}/truth/", body, content_type="application/json")
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_truth"
    assert message in r.json()["errors"][field]
    assert not GroundTruth.objects.exists()


def test_unknown_case_is_404(coordinator):
    assert coordinator.get("/cases/NOPE-1/").status_code == 404
    assert coordinator.get("/api/cases/NOPE-1/truth/").json()["code"] == "not_found"


@pytest.mark.parametrize("factory", [ReaderFactory, StatisticianFactory])
def test_readers_and_statisticians_get_403_everywhere(case, factory):
    GroundTruth.objects.create(case=case, etiology="cvst_ich")
    client = _client(factory)
    for response in (
        client.get(f"/cases/{case.code}/"),
        client.post(f"/cases/{case.code}/", {"label": "sich"}),
        client.get(f"/api/cases/{case.code}/truth/"),
        client.put(
            f"/api/cases/{case.code}/truth/", {"label": "sich"}, content_type="application/json"
        ),
    ):
        assert response.status_code == 403
        assert b"cvst_ich" not in response.content
    assert GroundTruth.objects.get(case=case).etiology == "cvst_ich"


def test_administrators_manage_truth_too(case):
    client = _client(AdminFactory)
    r = client.put(
        f"/api/cases/{case.code}/truth/", {"label": "sich"}, content_type="application/json"
    )
    assert r.status_code == 200
