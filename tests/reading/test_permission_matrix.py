"""Role x endpoint x phase: every forbidden cell is refused (403/404) and leaks nothing."""

import json
import re

import pytest
from django.test import TestCase

from readerstudy.reading import services
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Assignment, Design
from tests.factories import (
    PASSWORD,
    AdminFactory,
    CoordinatorFactory,
    ModelVersionFactory,
    ReaderFactory,
    StatisticianFactory,
    cases_with_series,
    make_inference_output,
)

pytestmark = pytest.mark.django_db
ANSWER = {"diagnosis": "sich", "confidence": 20}
SECRET_PROBABILITY = "0.8125"  # the planted model probability: must never leak early


@pytest.fixture
def world(db):
    model = ModelVersionFactory()
    cases = cases_with_series(2)
    extra_case = cases_with_series(1)[0]  # in the library, assigned to nobody
    study = study_services.create_study(
        title="matrix", design=Design.SEQUENTIAL_PER_CASE, randomization_seed=3
    )
    study_services.add_cases(study, cases)
    a, b = ReaderFactory(), ReaderFactory()
    for user in (a, b):
        study_services.enroll_reader(study, user)
    study_services.configure_assistance(study, model_version=model, heatmaps=["gradcampp", "ig"])
    study = study_services.open_study(study, truth_pending_allowed=True)
    for case in [*cases, extra_case]:
        make_inference_output(case, model)
    first = Assignment.objects.filter(study=study, reader__user=a).order_by("position")[0]
    aided = Assignment.objects.get(prerequisite=first)
    return {
        "study": study, "a": a, "b": b, "unaided": first, "aided": aided, "extra_case": extra_case,
        "users": {
            "anonymous": None, "reader_a": a, "reader_b": b, "coordinator": CoordinatorFactory(),
            "statistician": StatisticianFactory(), "admin": AdminFactory(),
        },
    }  # fmt: skip


def _client_for(client, user):
    client.logout()
    if user is not None:
        assert client.login(username=user.username, password=PASSWORD)
    return client


def _assistance_urls(aided_id):
    return [
        f"/api/reading/assignments/{aided_id}/assistance/",
        f"/api/reading/assignments/{aided_id}/assistance/heatmaps/gradcampp/",
        f"/api/reading/assignments/{aided_id}/assistance/heatmaps/ig/",
        f"/api/reading/assignments/{aided_id}/assistance/mask/",
    ]


def _to_phase(world, phase):
    a, unaided, aided = world["a"], world["unaided"], world["aided"]
    if phase in ("after_lock", "closed"):
        services.start(a, unaided.pk)
        services.submit(a, unaided.pk, ANSWER, client_request_id="u", lock=True)
        services.start(a, aided.pk)
    if phase == "closed":
        study_services.close_study(world["study"])


def _body(response) -> str:
    return (
        b"".join(response.streaming_content).decode("latin-1")
        if response.streaming
        else response.content.decode("latin-1")
    )


PHASES = ["before_lock", "after_lock", "closed"]
ROLES = ["anonymous", "reader_a", "reader_b", "coordinator", "statistician", "admin"]


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("role", ROLES)
def test_assistance_is_only_for_the_reader_after_their_unaided_lock(client, world, role, phase):
    _to_phase(world, phase)
    c = _client_for(client, world["users"][role])
    allowed = role == "reader_a" and phase == "after_lock"
    for url in _assistance_urls(world["aided"].pk):
        response = c.get(url)
        if allowed:
            assert response.status_code == 200, url
        else:
            assert response.status_code in (401, 403, 404), (url, response.status_code)
            assert SECRET_PROBABILITY not in _body(response)
            assert "X-Overlay" not in response


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("role", ROLES)
def test_reading_endpoints_by_role_and_phase(client, world, role, phase):
    _to_phase(world, phase)
    c = _client_for(client, world["users"][role])
    aided_id = world["aided"].pk
    listing = c.get("/api/reading/assignments/")
    detail = c.get(f"/api/reading/assignments/{aided_id}/")
    revisions = c.get(f"/api/reading/assignments/{world['unaided'].pk}/revisions/")
    if role == "reader_a":
        assert listing.status_code == detail.status_code == revisions.status_code == 200
        ids = {row["id"] for row in listing.json()}
        assert ids == set(
            Assignment.objects.filter(reader__user=world["a"]).values_list("id", flat=True)
        )
    elif role == "reader_b":
        assert listing.status_code == 200
        assert aided_id not in {row["id"] for row in listing.json()}
        assert detail.status_code == revisions.status_code == 404  # IDOR: A's assignment
    else:
        for r in (listing, detail, revisions):
            assert r.status_code in (401, 403)
    for r in (listing, detail, revisions):
        body = r.content.decode()
        assert SECRET_PROBABILITY not in body
        assert "ground_truth" not in body and "etiology" not in body


def test_listings_never_carry_model_output(client, world):
    _to_phase(world, "after_lock")
    c = _client_for(client, world["a"])
    for url in [
        "/api/reading/assignments/",
        "/api/reading/studies/",
        f"/api/reading/studies/{world['study'].pk}/next/",
        f"/api/reading/assignments/{world['aided'].pk}/",
    ]:
        body = c.get(url).content.decode()
        assert SECRET_PROBABILITY not in body and "heatmap" not in body, url
    started = c.post(f"/api/reading/assignments/{world['aided'].pk}/start/")
    assert started.status_code == 200
    body = started.content.decode()
    assert SECRET_PROBABILITY not in body and "heatmap" not in body
    assert "ground_truth" not in body and "etiology" not in body


def test_reader_b_cannot_write_to_a_s_assignment(client, world):
    c = _client_for(client, world["b"])
    uid = world["unaided"].pk
    for method, url, data in [
        ("post", f"/api/reading/assignments/{uid}/start/", None),
        ("put", f"/api/reading/assignments/{uid}/draft/", {"answers": ANSWER}),
        (
            "post",
            f"/api/reading/assignments/{uid}/submit/",
            {"answers": ANSWER, "client_request_id": "x"},
        ),
        ("post", f"/api/reading/assignments/{uid}/lock/", None),
    ]:
        response = getattr(c, method)(
            url, json.dumps(data) if data else None, content_type="application/json"
        )
        assert response.status_code == 404, url
    assert world["unaided"].revisions.count() == 0


def test_assistance_exposure_is_recorded_as_provenance(client, world):
    _to_phase(world, "after_lock")
    c = _client_for(client, world["a"])
    payload = c.get(f"/api/reading/assignments/{world['aided'].pk}/assistance/").json()
    assert payload["probability"]["value"] == pytest.approx(0.8125)
    assert payload["probability"]["meaning"] == "probability of CVST-ICH"
    assert [h["method"] for h in payload["heatmaps"]] == ["gradcampp", "ig"]
    exposure = world["aided"].exposures.get()
    assert exposure.shown["heatmaps"] == ["gradcampp", "ig"]
    assert exposure.model_version_id == world["study"].assistance.model_version_id
    overlay = c.get(f"/api/reading/assignments/{world['aided'].pk}/assistance/heatmaps/ig/")
    descriptor = json.loads(overlay["X-Overlay"])
    assert descriptor["signed"] is True and descriptor["shape"] == [4, 16, 16]
    assert len(overlay.content) == 4 * 16 * 16


@pytest.mark.parametrize("role", ROLES)
def test_dicomweb_by_role(client, world, role):
    c = _client_for(client, world["users"][role])
    series = world["unaided"].study_case.case.primary_series
    extra = world["extra_case"].primary_series
    own = c.get(
        f"/dicomweb/studies/{series.study_instance_uid}/series/{series.series_instance_uid}/metadata"
    )
    unassigned = c.get(
        f"/dicomweb/studies/{extra.study_instance_uid}/series/{extra.series_instance_uid}/metadata"
    )
    listing = c.get("/dicomweb/studies")
    if role in ("coordinator", "admin"):
        assert own.status_code == unassigned.status_code == 200
    elif role in ("reader_a", "reader_b"):
        assert own.status_code == 200
        assert unassigned.status_code == 404
        uids = {s["0020000D"]["Value"][0] for s in listing.json()}
        assert extra.study_instance_uid not in uids and series.study_instance_uid in uids
    else:
        assert own.status_code in (401, 403, 404) and unassigned.status_code in (401, 403, 404)
        if listing.status_code == 200:
            assert listing.json() == []


def test_only_login_health_schema_and_docs_are_public(client):
    from django.urls import get_resolver

    public = {"/healthz", "/accounts/login/", "/api/schema/", "/api/docs/"}
    for url in public:
        assert client.get(url).status_code == 200, url
    for url in [
        "/api/reading/assignments/",
        "/api/studies/",
        "/api/ops/worker-probes/",
        "/dicomweb/studies",
        "/",
        "/studies/",
        "/read/",
    ]:
        assert client.get(url).status_code in (302, 401, 403), url
    assert get_resolver()  # the URL configuration loads


def _routes(patterns, prefix=""):
    from django.urls import URLResolver

    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def _concrete(route: str) -> str | None:
    """A URL for a route with its parameters filled in; None for the router's regex variants."""
    route = re.sub(r"<int:\w+>", "1", route)
    route = re.sub(r"<uuid:\w+>", "00000000-0000-0000-0000-000000000001", route)
    route = re.sub(r"<(?:str|slug|path):\w+>", "x", route)
    if route == "api/^ops/worker-probes/$":
        return "/api/ops/worker-probes/"
    if any(ch in route for ch in "^$()?<"):
        return None
    return "/" + route


def test_every_route_refuses_anonymous_callers_except_the_public_ones(client):
    """Walks the whole URL configuration, so a new endpoint cannot forget its permissions."""
    from django.urls import get_resolver

    public = {"/healthz", "/accounts/login/", "/accounts/logout/", "/api/schema/", "/api/docs/"}
    checked = []
    for route in _routes(get_resolver().url_patterns):
        url = _concrete(route)
        if url is None or url in public or url.startswith("/admin/"):
            continue  # the admin has its own staff login
        for method in ("get", "post"):
            status = getattr(client, method)(url).status_code
            # 405: the route has no such method at all (e.g. no STOW-RS), nothing is served
            assert status in (302, 401, 403, 405), f"anonymous {method.upper()} {url} -> {status}"
        checked.append(url)
    assert "/api/ai/jobs/00000000-0000-0000-0000-000000000001/dicom/" in checked
    assert len(checked) >= 40


@pytest.mark.parametrize("role", [*ROLES, "annotator", "other_annotator", "adjudicator"])
def test_truth_panel_pages_by_role(client, role):
    """Panel results are for coordinators; annotators reach only their own panel's pages."""
    from readerstudy.panels import services as panel_services
    from tests.factories import AdjudicatorFactory, AnnotatorFactory

    annotators = [AnnotatorFactory(), AnnotatorFactory()]
    adjudicator = AdjudicatorFactory()
    case = cases_with_series(1)[0]
    panel = panel_services.create_panel(
        title="matrix panel", cases=[case], annotators=annotators, adjudicator=adjudicator,
        labels=["ich_present"],
    )  # fmt: skip
    with TestCase.captureOnCommitCallbacks(execute=True):  # the vote runs (on a worker)
        for user, present in zip(annotators, (True, False), strict=True):
            panel_services.annotate(user, panel.pk, case.code, {"ich_present": present})
    users = {
        "anonymous": None, "reader_a": ReaderFactory(), "reader_b": ReaderFactory(),
        "coordinator": CoordinatorFactory(), "statistician": StatisticianFactory(),
        "admin": AdminFactory(), "annotator": annotators[0],
        "other_annotator": AnnotatorFactory(), "adjudicator": adjudicator,
    }  # fmt: skip
    c = _client_for(client, users[role])
    results = [f"/panels/{panel.pk}/", f"/panels/{panel.pk}/report/",
               f"/panels/{panel.pk}/report/labels.csv", "/panels/"]  # fmt: skip
    annotate = [f"/panels/{panel.pk}/annotate/", f"/panels/{panel.pk}/annotate/{case.code}/"]
    adjudicate = [f"/panels/{panel.pk}/adjudicate/", f"/panels/{panel.pk}/adjudicate/{case.code}/"]
    allowed = {
        "coordinator": results, "admin": results, "annotator": annotate,
        "adjudicator": adjudicate,
    }.get(role, [])  # fmt: skip
    for url in results + annotate + adjudicate:
        status = c.get(url).status_code
        if url in allowed:
            assert status == 200, (role, url)
        else:
            assert status in (302, 403, 404), (role, url, status)
