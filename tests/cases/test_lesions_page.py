"""The truth lesions page: a lesions CSV checked or imported, lesions from the hematoma masks,
each refusal listing its problems with nothing stored, for coordinators only."""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from readerstudy.audit.models import AuditEntry
from readerstudy.cases.models import TruthLesion
from tests.cases.test_truth_lesions import case_with_mask
from tests.factories import (
    PASSWORD,
    AdminFactory,
    CoordinatorFactory,
    ReaderFactory,
    SeriesFactory,
    StatisticianFactory,
)

pytestmark = pytest.mark.django_db
PAGE = "/cases/lesions/"


@pytest.fixture
def coordinator_client(client):
    assert client.login(username=CoordinatorFactory().username, password=PASSWORD)
    return client


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("lesions.csv", text.encode(), content_type="text/csv")


def _lesions() -> list[tuple[str, int, float, str]]:
    return sorted(TruthLesion.objects.values_list("case__code", "lesion_id", "weight", "source"))


def test_the_page_lists_the_cases_with_a_mask_or_lesions(coordinator_client):
    case = case_with_mask()
    bare = SeriesFactory().case
    page = coordinator_client.get(PAGE).content.decode()
    assert 'id="lesions-csv-form"' in page and 'id="lesions-masks-form"' in page
    table = page[page.index('id="lesion-table"') :]
    assert case.code in table and bare.code not in table
    assert PAGE in coordinator_client.get("/cases/").content.decode()


def test_check_only_says_what_would_be_stored_and_stores_nothing(coordinator_client):
    case = SeriesFactory().case
    text = f"case_code,lesion_id,x_mm,y_mm,z_mm\n{case.code},1,0,0,0\n{case.code},2,5,5,5\n"
    r = coordinator_client.post(f"{PAGE}csv/", {"file": _csv(text), "action": "check"})
    assert r.status_code == 200
    assert "lesions.csv: 2 lesions of 1 case would be imported" in r.content.decode()
    assert not TruthLesion.objects.exists()
    r = coordinator_client.post(f"{PAGE}csv/", {"file": _csv(text), "action": "import"})
    assert r.status_code == 302 and r["Location"] == PAGE
    assert _lesions() == [(case.code, 1, 0.5, "csv"), (case.code, 2, 0.5, "csv")]
    entry = AuditEntry.objects.get(kind="lesions.import")
    assert entry.additional_data["lesions"] == 2 and entry.additional_data["source"] == "csv"


def test_a_bad_csv_lists_every_problem_and_keeps_the_lesions_there_were(coordinator_client):
    case = case_with_mask()
    coordinator_client.post(f"{PAGE}masks/", {"cases": "", "weighting": "equal", "min_voxels": 1})
    before = _lesions()
    assert len(before) == 2
    text = (
        "case_code,lesion_id,x_mm,y_mm,z_mm,weight\n"
        f"{case.code},1,0,0,0,0.5\n"
        f"{case.code},2,x,0,0,0.2\n"
        "RS-NOPE,1,0,0,0,\n"
    )
    r = coordinator_client.post(f"{PAGE}csv/", {"file": _csv(text), "action": "import"})
    assert r.status_code == 400
    page = r.content.decode()
    assert "Nothing was stored: 3 problems." in page
    assert f"the weights of case {case.code} sum to 0.5" in page  # lesion 2 is not read
    assert "line 3: x_mm &#x27;x&#x27; is not a number" in page
    assert "line 4: no case with code &#x27;RS-NOPE&#x27;" in page
    assert _lesions() == before
    assert not AuditEntry.objects.filter(kind="lesions.import", additional_data__source="csv")


def test_the_problems_are_listed_by_line(coordinator_client):
    one, other = SeriesFactory().case, SeriesFactory().case
    text = (
        "case_code,lesion_id,x_mm,y_mm,z_mm,weight\n"
        f"{one.code},2,0,0,0,0.3\n"
        "RS-NOPE,1,0,0,0,\n"
        f"{other.code},1,x,0,0,\n"
        f"{one.code},1,5,5,5,0.3\n"
    )
    r = coordinator_client.post(f"{PAGE}csv/", {"file": _csv(text), "action": "check"})
    assert r.status_code == 400
    box = r.content.decode().split('id="lesion-errors"')[1].split("</div>")[0]
    assert [html.unescape(e) for e in re.findall(r"<li>(.*?)</li>", box)] == [
        f"lines 2, 5: the weights of case {one.code} sum to 0.6"
        " (must be 1, or all blank/0 for equal weights)",
        "line 3: no case with code 'RS-NOPE'",
        "line 4: x_mm 'x' is not a number",
    ]


def test_a_csv_without_the_columns_is_named(coordinator_client):
    r = coordinator_client.post(
        f"{PAGE}csv/", {"file": _csv("case_code,x_mm\n"), "action": "check"}
    )
    assert r.status_code == 400
    assert "the lesions CSV lacks column(s) lesion_id, y_mm, z_mm" in r.content.decode()
    r = coordinator_client.post(f"{PAGE}csv/", {"action": "import"})
    assert r.status_code == 400 and "This field is required." in r.content.decode()


def test_lesions_from_the_masks_with_volume_weights(coordinator_client):
    case = case_with_mask()
    r = coordinator_client.post(
        f"{PAGE}masks/", {"cases": case.code, "weighting": "volume", "min_voxels": 1}
    )
    assert r.status_code == 302
    got = _lesions()
    assert [(c, i, s) for c, i, _, s in got] == [(case.code, 1, "mask"), (case.code, 2, "mask")]
    assert [w for _, _, w, _ in got] == pytest.approx([32 / 36, 4 / 36])
    r = coordinator_client.post(
        f"{PAGE}masks/", {"cases": case.code, "weighting": "equal", "min_voxels": 5}
    )
    assert r.status_code == 302 and _lesions() == [(case.code, 1, 1.0, "mask")]


def test_one_case_without_a_mask_stores_none_of_them(coordinator_client):
    case = case_with_mask()
    bare = SeriesFactory().case
    r = coordinator_client.post(
        f"{PAGE}masks/", {"cases": f"{case.code}, {bare.code}", "weighting": "equal",
                          "min_voxels": 1},
    )  # fmt: skip
    assert r.status_code == 400
    assert f"{bare.code}: case {bare.code} has no hematoma mask" in r.content.decode()
    assert not TruthLesion.objects.exists()  # the case with a mask was rolled back too
    r = coordinator_client.post(
        f"{PAGE}masks/", {"cases": "RS-NONE", "weighting": "equal", "min_voxels": 1}
    )
    assert r.status_code == 400 and "no case with code RS-NONE" in r.content.decode()
    r = coordinator_client.post(
        f"{PAGE}masks/", {"cases": "", "weighting": "equal", "min_voxels": 0}
    )
    assert r.status_code == 400
    assert "Ensure this value is greater than or equal to 1." in r.content.decode()


def test_without_any_mask_the_page_says_so(coordinator_client):
    SeriesFactory()
    r = coordinator_client.post(f"{PAGE}masks/", {"cases": "", "weighting": "equal",
                                                  "min_voxels": 1})  # fmt: skip
    assert r.status_code == 400 and "no case has a hematoma mask" in r.content.decode()


@pytest.mark.parametrize("factory", [ReaderFactory, StatisticianFactory])
@pytest.mark.parametrize(("method", "path"), [("get", ""), ("post", "csv/"), ("post", "masks/")])
def test_only_coordinators_manage_truth_lesions(client, factory, method, path):
    case = case_with_mask()
    assert client.login(username=factory().username, password=PASSWORD)
    data = {"cases": case.code, "weighting": "equal", "min_voxels": 1}
    r = getattr(client, method)(f"{PAGE}{path}", data if method == "post" else None)
    assert r.status_code == 403
    assert not TruthLesion.objects.exists()


def test_anonymous_callers_sign_in_and_admins_are_coordinators_here(client):
    r = client.get(PAGE)
    assert r.status_code == 302 and "/login" in r["Location"]
    admin = AdminFactory()
    assert client.login(username=admin.username, password=PASSWORD)
    assert client.get(PAGE).status_code == 200
