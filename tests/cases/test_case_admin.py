"""The case library's models in the admin: searchable lists; imports and series read-only."""

import pytest
from django.contrib import admin
from django.test import Client

from readerstudy.cases.models import Case, Collection, GroundTruth, ImportJob, Series
from tests.factories import PASSWORD, AdminFactory, SeriesFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    client = Client()
    user = AdminFactory()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_every_case_library_model_is_listed_and_searchable(admin_client):
    SeriesFactory(case__collection=Collection.objects.create(name="other"))
    ImportJob.objects.create(source="folder")
    case = SeriesFactory(description="AXIAL").case
    case.collection = Collection.objects.create(name="pilot")
    case.save()
    GroundTruth.objects.create(case=case, etiology="cvst_ich")
    job = ImportJob.objects.create(source="upload", status="succeeded", created_case=True)
    job.cases.add(case)
    for model in (Collection, Case, Series, GroundTruth, ImportJob):
        assert admin.site.is_registered(model), model
        url = f"/admin/cases/{model._meta.model_name}/"
        match = {Collection: {"name": "pilot"}, Case: {"pk": case.pk}, Series: {"case": case},
                 GroundTruth: {"case": case}, ImportJob: {"pk": job.pk}}[model]  # fmt: skip
        r = admin_client.get(url, {"q": case.code if model is not Collection else "pilot"})
        assert r.status_code == 200, url
        assert list(r.context["cl"].result_list) == [model.objects.get(**match)], url


def test_series_and_import_jobs_are_shown_but_never_changed(admin_client):
    series = SeriesFactory()
    job = ImportJob.objects.create(source="upload")
    for model, pk in ((Series, series.pk), (ImportJob, job.pk)):
        name = model._meta.model_name
        assert admin_client.get(f"/admin/cases/{name}/{pk}/change/").status_code == 200
        assert admin_client.post(f"/admin/cases/{name}/{pk}/change/", {}).status_code == 403
        assert admin_client.get(f"/admin/cases/{name}/add/").status_code == 403
        assert (
            admin_client.post(f"/admin/cases/{name}/{pk}/delete/", {"post": "yes"}).status_code
            == 403
        )
    assert (
        Series.objects.filter(pk=series.pk).exists()
        and ImportJob.objects.filter(pk=job.pk).exists()
    )
