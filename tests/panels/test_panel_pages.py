"""The panel pages: annotators are blind to each other; results are for coordinators only."""

import csv
import io
import re

import pytest

from readerstudy.panels import services
from tests.factories import (
    PASSWORD,
    AnnotatorFactory,
    CoordinatorFactory,
    ReaderFactory,
    StatisticianFactory,
)

from .conftest import LABELS, annotate_all

pytestmark = pytest.mark.django_db


def _as(client, user):
    client.logout()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_coordinator_creates_a_panel_from_the_form(client, panel_world):
    world = panel_world()  # users and cases to pick
    _as(client, world["coordinator"])
    page = client.get("/panels/new/")
    assert page.status_code == 200
    data = {
        "title": "Subtypes panel", "labels": ["ich_present", "subtypes"], "rule": "unanimous",
        "etiology_values": "cvst_ich, sich", "cases": [c.pk for c in world["cases"]],
        "annotators": [u.pk for u in world["annotators"][:2]],
        "adjudicator": world["adjudicator"].pk,
    }  # fmt: skip
    response = client.post("/panels/new/", data)
    assert response.status_code == 302
    detail = client.get(response["Location"])
    assert b"Subtypes panel" in detail.content and b"annotating" in detail.content
    refused = client.post("/panels/new/", {**data, "annotators": [world["annotators"][0].pk]})
    assert refused.status_code == 400
    assert "at least two different annotators" in refused.content.decode()


def _chosen(html: str) -> set[str]:
    """The values a page's form opens with (checked boxes, selected options)."""
    inputs = re.findall(r'<input[^>]*value="([^"]*)"[^>]*\bchecked\b', html)
    options = re.findall(r'<option value="([^"]*)"[^>]*\bselected\b', html)
    return (set(inputs) | set(options)) - {""}


def test_an_annotator_sees_only_their_own_labels(client, panel_world):
    world = panel_world()
    panel, (a1, a2, a3) = world["panel"], world["annotators"]
    case1 = world["cases"][1].code
    services.annotate(a1, panel.pk, case1, LABELS[1][0])  # A1: IPH + IVH, lobar
    _as(client, a2)
    url = f"/panels/{panel.pk}/annotate/{case1}/"
    assert _chosen(client.get(url).content.decode()) == set()
    client.post(url, {"ich_present": "yes", "subtypes": ["iph"], "location": "deep"})
    assert _chosen(client.get(url).content.decode()) == {"yes", "iph", "deep"}
    _as(client, a1)
    assert _chosen(client.get(url).content.decode()) == {"yes", "iph", "ivh", "lobar"}
    # after the vote, an annotator still sees neither the votes nor the report
    services.annotate(a3, panel.pk, case1, LABELS[1][2])
    for user, values in zip(world["annotators"], LABELS[0], strict=True):
        services.annotate(user, panel.pk, world["cases"][0].code, values)
    _as(client, a2)
    after = client.get(url).content.decode()
    assert _chosen(after) == {"yes", "iph", "deep"}
    assert re.search(r"\bA[13]\b", after) is None  # the others' aliases (not inside a token)
    assert client.get(f"/panels/{panel.pk}/report/").status_code == 403
    assert client.get(f"/panels/{panel.pk}/adjudicate/{case1}/").status_code == 403


def test_an_annotator_of_another_panel_gets_404(client, panel_world):
    world = panel_world()
    _as(client, AnnotatorFactory())
    panel, code = world["panel"], world["cases"][0].code
    assert client.get(f"/panels/{panel.pk}/annotate/").status_code == 404
    assert client.get(f"/panels/{panel.pk}/annotate/{code}/").status_code == 404
    assert client.get("/panels/mine/").status_code == 200


def test_the_adjudicator_sees_anonymised_votes_and_decides(client, panel_world):
    world = panel_world()
    annotate_all(world)
    panel, case1 = world["panel"], world["cases"][1].code
    _as(client, world["adjudicator"])
    listing = client.get(f"/panels/{panel.pk}/adjudicate/").content.decode()
    assert case1 in listing and world["cases"][0].code not in listing
    page = client.get(f"/panels/{panel.pk}/adjudicate/{case1}/").content.decode()
    assert "<th>A1</th><td>lobar</td>" in page and "<th>A3</th><td>none</td>" in page
    assert not any(u.username in page for u in world["annotators"])
    bad = client.post(f"/panels/{panel.pk}/adjudicate/{case1}/", {"item-location": "frontal"})
    assert bad.status_code == 400 and "Location must be one of" in bad.content.decode()
    ok = client.post(f"/panels/{panel.pk}/adjudicate/{case1}/", {"item-location": "deep"})
    assert ok.status_code == 302
    assert _chosen(client.get(f"/panels/{panel.pk}/adjudicate/{case1}/").content.decode()) == {
        "deep"
    }


def test_report_and_csv_for_coordinators(client, panel_world):
    world = panel_world()
    annotate_all(world)
    panel, case1 = world["panel"], world["cases"][1].code
    services.adjudicate(world["adjudicator"], panel.pk, case1, "location", "deep")
    coordinator = _as(client, world["coordinator"])
    report = coordinator.get(f"/panels/{panel.pk}/report/").content.decode()
    assert "Fleiss" in report and "Subtype IVH" in report and "adjudicated" in report
    rows = list(csv.reader(io.StringIO(
        coordinator.get(f"/panels/{panel.pk}/report/labels.csv").content.decode()
    )))  # fmt: skip
    assert rows[0] == ["case", "label", "A1", "A2", "A3", "value", "method"]
    assert [case1, "location", "lobar", "deep", "none", "deep", "adjudication"] in rows
    agreement = list(csv.DictReader(io.StringIO(
        coordinator.get(f"/panels/{panel.pk}/report/agreement.csv").content.decode()
    )))  # fmt: skip
    by_label = {row["label"]: row for row in agreement}
    # ICH present: case 0 unanimous, case 1 two of three -> P-bar (1 + 1/3) / 2
    assert float(by_label["ich_present"]["percent_agreement"]) == pytest.approx(66.6667, abs=1e-3)
    assert by_label["subtype:sah"]["fleiss_kappa"] == ""  # nobody said SAH: kappa undefined
    assert float(by_label["subtype:iph"]["fleiss_kappa"]) == pytest.approx(-0.2)
    assert coordinator.get(f"/panels/{panel.pk}/report/other.csv").status_code == 404
    for user in (ReaderFactory(), StatisticianFactory(), world["annotators"][0],
                 world["adjudicator"]):  # fmt: skip
        c = _as(client, user)
        for url in (f"/panels/{panel.pk}/report/", f"/panels/{panel.pk}/report/labels.csv",
                    f"/panels/{panel.pk}/", "/panels/"):  # fmt: skip
            assert c.get(url).status_code == 403, (user.role, url)


def test_finalize_from_the_detail_page(client, panel_world):
    world = panel_world()
    annotate_all(world)
    panel, case1 = world["panel"], world["cases"][1].code
    c = _as(client, CoordinatorFactory())
    refused = c.post(f"/panels/{panel.pk}/finalize/", follow=True).content.decode()
    assert "wait for the adjudicator" in refused
    services.adjudicate(world["adjudicator"], panel.pk, case1, "location", "lobar")
    done = c.post(f"/panels/{panel.pk}/finalize/", follow=True).content.decode()
    assert "finalized" in done and "finished" in done
