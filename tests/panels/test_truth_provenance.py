"""Imported truth carries provenance (method import); panel truth shows on the case page."""

import importlib

import pytest
from django.apps import apps as global_apps

from readerstudy.cases.labels import store_truth
from readerstudy.cases.models import GroundTruth
from readerstudy.panels import services
from tests.factories import PASSWORD, CaseFactory

from .conftest import annotate_all

pytestmark = pytest.mark.django_db


def test_an_import_records_method_source_and_time():
    case = CaseFactory()
    truth, _ = store_truth(case, {"label": "sich", "ich_present": "1"}, source="label csv")
    assert set(truth.provenance) == {"etiology", "ich_present", "subtypes", "location"}
    assert truth.provenance["etiology"]["method"] == "import"
    assert truth.provenance["etiology"]["source"] == "label csv"
    assert truth.provenance["etiology"]["at"]


def test_the_data_migration_marks_existing_truth_as_imported():
    migration = importlib.import_module("readerstudy.cases.migrations.0009_truth_provenance")
    case = CaseFactory()
    truth = GroundTruth.objects.create(case=case, etiology="sich", location="lobar", source="x")
    other = GroundTruth.objects.create(case=CaseFactory())  # no values: no provenance
    migration.imported_truth(global_apps, None)
    truth.refresh_from_db()
    other.refresh_from_db()
    assert set(truth.provenance) == {"etiology", "location"}
    assert truth.provenance["location"] == {
        "method": "import", "annotators": [], "source": "x",
        "at": truth.updated_at.isoformat(),
    }  # fmt: skip
    assert other.provenance == {}


def test_the_case_page_shows_both_provenances(client, panel_world):
    world = panel_world(labels=("ich_present", "location"))
    case0, case1 = world["cases"]
    store_truth(case1, {"label": "sich"}, source="label csv")
    annotate_all(world)
    services.adjudicate(world["adjudicator"], world["panel"].pk, case1.code, "location", "deep")
    services.finalize(world["coordinator"], world["panel"].pk)
    assert client.login(username=world["coordinator"].username, password=PASSWORD)
    page = client.get(f"/cases/{case1.code}/").content.decode()
    section = page[page.index('id="truth-provenance"') :]
    assert "<td>imported</td><td>etiology</td><td>import</td>" in section
    assert "location: <strong>deep</strong></td><td>adjudication</td>" in section
    assert "ich_present: <strong>yes</strong></td><td>vote</td>" in section
    assert world["adjudicator"].username in section
    assert all(u.username in section for u in world["annotators"])
