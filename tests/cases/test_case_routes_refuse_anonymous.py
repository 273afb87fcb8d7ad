"""Every route of the case library refuses a caller who is not logged in."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from readerstudy.cases.models import GroundTruth, ImportJob
from tests.factories import SeriesFactory

pytestmark = pytest.mark.django_db
PREFIXES = ("cases/", "api/cases/", "dicomweb/")


def _routes(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def _filled(route: str, values: dict) -> str:
    for name, value in values.items():
        route = route.replace(name, value)
    assert "<" not in route, f"no value for a parameter of {route}"
    return "/" + route


def test_every_case_library_route_refuses_anonymous_callers():
    case = SeriesFactory().case
    GroundTruth.objects.create(case=case, etiology="cvst_ich")
    job = ImportJob.objects.create(source="upload")
    series = case.primary_series
    values = {
        "<str:code>": case.code, "<uuid:job_id>": str(job.pk),
        "<str:study_uid>": series.study_instance_uid, "<str:series_uid>": series.series_instance_uid,
        "<str:sop_uid>": "2.25.9", "<str:frames>": "1",
    }  # fmt: skip
    routes = [r for r in _routes(get_resolver().url_patterns) if r.startswith(PREFIXES)]
    assert {"cases/<str:code>/", "api/cases/labels/", "api/cases/<str:code>/truth/"} <= set(routes)
    client = Client()
    for route in routes:
        url = _filled(route, values)
        for method in ("get", "post", "put", "delete"):
            response = getattr(client, method)(url)
            refused = response.status_code in (401, 403, 405) or (
                response.status_code == 302 and "/accounts/login/" in response["Location"]
            )
            assert refused, f"{method.upper()} {url}: {response.status_code}"
            assert b"cvst_ich" not in response.content
