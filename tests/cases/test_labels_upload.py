"""The labels CSV from the case library page and the API: the command line's rules, all or none."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from readerstudy.cases.errors import LabelError
from readerstudy.cases.labels import import_labels, import_labels_csv
from readerstudy.cases.models import Case, GroundTruth
from tests.factories import (
    PASSWORD,
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
def coordinator():
    return _client(CoordinatorFactory)


@pytest.fixture
def cases():
    return [SeriesFactory().case for _ in range(3)]


def _csv(text: str, name: str = "labels.csv") -> io.BytesIO:
    upload = io.BytesIO(text.encode())
    upload.name = name
    return upload


def test_page_stores_every_row_and_says_how_many_were_new(coordinator, cases):
    GroundTruth.objects.create(case=cases[0], etiology="sich")
    rows = "\n".join(
        [
            "case_code,label,ich_present,subtypes,location,site",
            f"{cases[0].code},cvst_ich,1,IPH; IVH,lobar,Site A",
            f"{cases[1].code},sich,0,,,",
            f"{cases[2].code},sich,,,deep,",
        ]
    )
    r = coordinator.post("/cases/labels/", {"file": _csv(rows), "kind": "cases"}, follow=True)
    assert r.status_code == 200
    assert "Labels for 3 cases stored; 2 new, 1 updated." in r.content.decode()
    first = GroundTruth.objects.get(case=cases[0])
    assert (first.etiology, first.ich_present, first.subtypes, first.location) == (
        "cvst_ich", True, ["IPH", "IVH"], "lobar"
    )  # fmt: skip
    assert Case.objects.get(pk=cases[0].pk).site == "Site A"
    assert GroundTruth.objects.get(case=cases[1]).ich_present is False
    listing = coordinator.get("/cases/").content.decode()
    assert listing.count('<td class="case-labelled">yes</td>') == 3


def test_page_lists_every_row_error_and_stores_nothing(coordinator, cases):
    rows = "\n".join(
        [
            "case_code,label,ich_present,truth",
            f"{cases[0].code},cvst_ich,1,1",
            f"{cases[1].code},,2,",
            "NOPE-1,sich,0,0",
            f"{cases[2].code},{'x' * 33},,yes",
        ]
    )
    r = coordinator.post("/cases/labels/", {"file": _csv(rows), "kind": "cases"})
    assert r.status_code == 400
    page = r.content.decode()
    for problem in (
        "row 3: &#x27;label&#x27; is empty",
        "row 3: &#x27;ich_present&#x27; must be 0 or 1, got &#x27;2&#x27;",
        "row 4: no imported case matches this row",
        "row 5: &#x27;label&#x27; is longer than 32 characters",
        "row 5: &#x27;truth&#x27; must be 0 or 1, got &#x27;yes&#x27;",
    ):
        assert problem in page, problem
    assert "Nothing was stored: 5 problems." in page
    assert not GroundTruth.objects.exists()


def test_api_answers_a_summary_or_every_row_error(coordinator, cases):
    good = f"case_code,label\n{cases[0].code},sich\n{cases[1].code},cvst_ich\n"
    r = coordinator.post("/api/cases/labels/", {"file": _csv(good)})
    assert r.status_code == 200, r.content
    assert r.json() == {
        "kind": "cases", "cases": 2, "created": 2, "updated": 0,
        "detail": "labels for 2 cases stored; 2 new, 0 updated",
    }  # fmt: skip
    bad = f"case_code,label\n{cases[0].code},cvst_ich\n{cases[2].code},\nNOPE,sich\n"
    r = coordinator.post("/api/cases/labels/", {"file": _csv(bad)})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "invalid_labels"
    assert body["errors"] == ["row 3: 'label' is empty", "row 4: no imported case matches this row"]
    assert GroundTruth.objects.get(case=cases[0]).etiology == "sich"  # as before
    assert not GroundTruth.objects.filter(case=cases[2]).exists()


def test_api_takes_slice_labels_in_the_same_form(coordinator, cases):
    rows = f"case_code,slice,iph\n{cases[0].code},0,1\n{cases[0].code},4,0\n"
    r = coordinator.post("/api/cases/labels/", {"file": _csv(rows), "kind": "slices"})
    assert r.status_code == 200, r.content
    assert r.json()["detail"] == "slice labels for 1 case stored; 1 new, 0 updated"
    truth = GroundTruth.objects.get(case=cases[0])
    assert truth.slice_labels == {"labels": ["iph"], "slices": {"0": ["iph"], "4": []}}
    r = coordinator.post(
        "/api/cases/labels/", {"file": _csv(f"case_code,slice,iph\n{cases[0].code},99,1\n"),
                               "kind": "slices"},
    )  # fmt: skip
    assert r.status_code == 400
    assert r.json()["errors"] == ["row 2: slice 99 is outside the series (0..29)"]


def test_api_refuses_a_request_without_a_file_or_with_an_unknown_kind(coordinator, cases):
    r = coordinator.post("/api/cases/labels/", {})
    assert r.status_code == 400 and r.json()["code"] == "invalid_request"
    r = coordinator.post("/api/cases/labels/", {"file": _csv("case_code,label\n"), "kind": "x"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_request"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\xff\xfecase_code,label\n", "the CSV is not UTF-8 text"),
        (b"code,etiology\nC1,sich\n", "needs a 'label' column and 'case_code'"),
        (b"case_code,label\n{code},si\x00ch\n", "'label' contains a NUL character"),
        (b"case_code,label,mask\n{code},sich,m.nii.gz\n", "masks are not sent with an uploaded"),
        (b"case_code,label,subtypes\n{code},sich," + b"A;" * 21 + b"\n", "lists more than 20"),
    ],
)
def test_unreadable_or_unstorable_uploads_are_named(coordinator, cases, content, problem):
    upload = io.BytesIO(content.replace(b"{code}", cases[0].code.encode()))
    upload.name = "labels.csv"
    r = coordinator.post("/api/cases/labels/", {"file": upload})
    assert r.status_code == 400
    assert any(problem in e for e in r.json()["errors"]), r.json()
    assert not GroundTruth.objects.exists()


def test_a_byte_order_mark_from_a_spreadsheet_is_read(cases):
    upload = io.BytesIO(f"\ufeffcase_code,label\n{cases[0].code},sich\n".encode())
    assert import_labels_csv(upload).cases == 1


def test_the_command_line_still_imports_labels_with_the_same_rules(cases, tmp_path):
    good = tmp_path / "labels.csv"
    good.write_text(f"case_code,label\n{cases[0].code},sich\n")
    assert import_labels(good) == 1
    bad = tmp_path / "bad.csv"
    bad.write_text(f"case_code,label\n{cases[0].code},{'y' * 40}\n")
    with pytest.raises(LabelError, match="longer than 32"):
        import_labels(bad)
    assert GroundTruth.objects.get(case=cases[0]).etiology == "sich"


def test_command_reports_what_it_stored_or_every_row_error(phantom_dir, tmp_path, capsys):
    out, records = phantom_dir
    call_command("import_cases", str(out), "--labels", str(out / "labels.csv"), "--no-progress")
    assert "labels for 2 cases stored; 2 new, 0 updated" in capsys.readouterr().out
    code = Case.objects.order_by("code").first().code
    bad = tmp_path / "bad.csv"
    bad.write_text(f"case_code,label\n{code},{'y' * 40}\nNOPE,sich\n")
    with pytest.raises(CommandError) as caught:
        call_command("import_cases", str(out), "--labels", str(bad), "--no-progress")
    assert str(caught.value).splitlines()[1:] == [
        "row 2: 'label' is longer than 32 characters",
        "row 3: no imported case matches this row",
    ]
    assert caught.value.returncode == 2


@pytest.mark.parametrize("factory", [ReaderFactory, StatisticianFactory])
def test_other_roles_cannot_upload_labels(cases, factory):
    client = _client(factory)
    rows = f"case_code,label\n{cases[0].code},sich\n"
    assert client.post("/api/cases/labels/", {"file": _csv(rows)}).status_code == 403
    assert client.post("/cases/labels/", {"file": _csv(rows)}).status_code == 403
    assert client.get("/cases/").status_code == 403
    assert not GroundTruth.objects.exists()
