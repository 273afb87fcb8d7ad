"""The coordinator's clinical-data pages: upload (all or nothing), list, variables, case form."""

import io

import pytest
from django.test import Client

from readerstudy.cases.models import ClinicalRecord, ClinicalVariable
from tests.factories import PASSWORD, CaseFactory, CoordinatorFactory, ReaderFactory

pytestmark = pytest.mark.django_db


def _client(factory) -> Client:
    client = Client()
    user = factory()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _csv(text: str) -> io.BytesIO:
    upload = io.BytesIO(text.encode())
    upload.name = "clinical.csv"
    return upload


def test_upload_lists_values_and_refuses_bad_rows():
    client = _client(CoordinatorFactory)
    a, b = CaseFactory(), CaseFactory()
    good = f"case_id,age,sex,seizure_at_admission\n{a.code},61,F,1\n{b.code},44,M,0\n"
    r = client.post("/cases/clinical/upload/", {"file": _csv(good)}, follow=True)
    assert "Clinical data for 2 cases stored; 2 new, 0 updated." in r.content.decode()
    page = client.get("/cases/clinical/").content.decode()
    assert f'href="/cases/{a.code}/clinical/"' in page and "<td>61</td>" in page
    bad = f"case_id,age\n{a.code},sixty\n"
    r = client.post("/cases/clinical/upload/", {"file": _csv(bad)})
    assert r.status_code == 400
    assert "row 2, column &#x27;age&#x27;: &#x27;sixty&#x27; is not a number" in r.content.decode()
    assert ClinicalRecord.objects.get(case=a).values["age"] == 61.0


def test_variable_form_and_case_form():
    client = _client(CoordinatorFactory)
    case = CaseFactory()
    r = client.post(
        "/cases/clinical/variables/", {"name": "side", "kind": "category", "options": "L|R"}
    )
    assert r.status_code == 302 and ClinicalVariable.objects.get(name="side").options == ["L", "R"]
    r = client.post("/cases/clinical/variables/", {"name": "age", "kind": "number"})
    assert r.status_code == 400 and "already exists" in r.content.decode()
    url = f"/cases/{case.code}/clinical/"
    assert 'name="side"' in client.get(url).content.decode()
    r = client.post(url, {"age": "-4", "side": "L"})
    assert r.status_code == 400 and "below the minimum 0" in r.content.decode()
    r = client.post(url, {"age": "70", "side": "R", "headache": "1", "etiology": "CAA"})
    assert r.status_code == 302
    assert ClinicalRecord.objects.get(case=case).values == {
        "age": 70.0,
        "side": "R",
        "headache": True,
        "etiology": "CAA",
    }
    assert case.ground_truth.etiology == "other"


def test_readers_get_403():
    client = _client(ReaderFactory)
    case = CaseFactory()
    for url in ("/cases/clinical/", f"/cases/{case.code}/clinical/"):
        assert client.get(url).status_code == 403
    assert client.post("/cases/clinical/upload/", {}).status_code == 403
