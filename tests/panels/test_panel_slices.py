"""Slice labels as a panel label kind: marks per slice, a vote per (slice, label), adjudication
of the slices without a majority, the truth in the cases' slice-truth layout, agreement over
slices, and annotators blind to each other's marks."""

import csv
import io
import json

import pytest
from django.test import TestCase

from readerstudy.cases.models import Instance
from readerstudy.panels import services
from readerstudy.panels.errors import PanelError
from readerstudy.panels.models import Annotation, PanelItem, PanelTruth, Rule
from readerstudy.panels.selectors import report
from tests.factories import (
    PASSWORD,
    AdjudicatorFactory,
    AnnotatorFactory,
    CoordinatorFactory,
    SeriesFactory,
)

pytestmark = pytest.mark.django_db

N_SLICES = 6


def _case_with_slices(tag: str):
    series = SeriesFactory(num_slices=N_SLICES)
    for position in range(N_SLICES):
        Instance.objects.create(
            series=series, sop_instance_uid=f"2.25.9{tag}{position}", sop_class_uid="1.2",
            transfer_syntax_uid="1.2.840.10008.1.2.1", position=position, file="x", sha256="0",
            size=1, pixel_offset=0, pixel_length=1, metadata={},
        )  # fmt: skip
    return series.case


def uid(case, position: int) -> str:
    return Instance.objects.get(series=case.primary_series, position=position).sop_instance_uid


def marks(case, *pairs) -> list[dict]:
    return [{"sop_instance_uid": uid(case, p), "label": label} for p, label in pairs]


@pytest.fixture
def slice_panel(db):
    def make(rule=Rule.MAJORITY, labels=("ich_present", "subtypes", "slice_labels"), n=3):
        cases = [_case_with_slices("1"), _case_with_slices("2")]
        annotators = [AnnotatorFactory() for _ in range(n)]
        panel = services.create_panel(
            title="Slice panel", cases=cases, annotators=annotators,
            adjudicator=AdjudicatorFactory(), labels=list(labels), rule=rule,
            created_by=CoordinatorFactory(),
        )  # fmt: skip
        return panel, cases, annotators

    return make


def _annotate(panel, cases, annotators, per_case):
    """per_case: {case index: [slice pairs of A1, of A2, ...]}; subtypes from the pairs. The
    vote the last annotation queues runs."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        for index, case in enumerate(cases):
            for user, pairs in zip(annotators, per_case[index], strict=True):
                values = {"ich_present": bool(pairs), "slice_labels": marks(case, *pairs)}
                if "subtypes" in panel.labels:
                    values["subtypes"] = sorted({label for _, label in pairs})
                services.annotate(user, panel.pk, case.code, values)


def test_marks_are_stored_once_each_in_slice_order_with_their_position(slice_panel):
    panel, (case, _), (a1, *_) = slice_panel()
    given = marks(case, (4, "ivh"), (1, "iph"), (4, "iph"), (1, "iph"))
    services.annotate(
        a1, panel.pk, case.code, {"ich_present": True, "subtypes": ["iph"], "slice_labels": given}
    )
    stored = Annotation.objects.get().values["slice_labels"]
    assert [(m["position"], m["label"]) for m in stored] == [(1, "iph"), (4, "iph"), (4, "ivh")]
    assert stored[0]["sop_instance_uid"] == uid(case, 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"slice_labels": [{"sop_instance_uid": "2.25.404", "label": "iph"}]}, "not a slice"),
        ({"slice_labels": "slice 3"}, "must be a list"),
        ({"slice_labels": [{"label": "iph"}]}, "sop_instance_uid and label"),
        ({"ich_present": False, "subtypes": []}, "only when ICH is present"),
    ],
)
def test_bad_slice_marks_are_refused_with_the_reason(slice_panel, change, message):
    panel, (case, _), (a1, *_) = slice_panel()
    values = {"ich_present": True, "subtypes": ["iph"], "slice_labels": marks(case, (2, "iph"))}
    with pytest.raises(PanelError, match=message):
        services.annotate(a1, panel.pk, case.code, {**values, **change})
    assert Annotation.objects.count() == 0


def test_a_slice_of_another_case_is_refused(slice_panel):
    panel, (case, other), (a1, *_) = slice_panel()
    values = {"ich_present": True, "subtypes": ["iph"], "slice_labels": marks(other, (2, "iph"))}
    with pytest.raises(PanelError, match="not a slice of this case's series"):
        services.annotate(a1, panel.pk, case.code, values)


def test_without_subtypes_a_slice_is_marked_as_any(slice_panel):
    panel, (case, _), (a1, *_) = slice_panel(labels=("ich_present", "slice_labels"))
    with pytest.raises(PanelError, match="must be one of any"):
        services.annotate(
            a1, panel.pk, case.code,
            {"ich_present": True, "slice_labels": marks(case, (2, "iph"))},
        )  # fmt: skip
    services.annotate(
        a1, panel.pk, case.code, {"ich_present": True, "slice_labels": marks(case, (2, "any"))}
    )


def test_vote_per_marked_slice_and_truth_in_the_cases_slice_layout(slice_panel):
    panel, cases, annotators = slice_panel()
    # case 0: slice 2 IPH by all, slice 3 IPH by A1 and A2, slice 4 IVH by A3 only
    # case 1: nobody marks anything
    _annotate(
        panel, cases, annotators,
        {0: [[(2, "iph"), (3, "iph")], [(2, "iph"), (3, "iph")], [(2, "iph"), (4, "ivh")]],
         1: [[], [], []]},
    )  # fmt: skip
    items = {
        i.key: i for i in PanelItem.objects.filter(panel_case__case=cases[0], key__startswith="s")
    }
    assert sorted(items) == ["slice:2:iph", "slice:3:iph", "slice:4:ivh", "subtype:edh",
                             "subtype:iph", "subtype:ivh", "subtype:sah", "subtype:sdh"]  # fmt: skip
    assert items["slice:3:iph"].votes == {"A1": True, "A2": True, "A3": False}
    assert items["slice:3:iph"].value is True and items["slice:3:iph"].method == "vote"
    assert items["slice:4:ivh"].value is False
    assert not PanelItem.objects.filter(panel_case__case=cases[1], key__startswith="slice:")
    services.finalize(CoordinatorFactory(), panel.pk)
    truth = PanelTruth.objects.get(case=cases[0])
    assert truth.slice_labels == {
        "labels": ["iph", "ivh", "sah", "sdh", "edh"],
        "slices": {"0": [], "1": [], "2": ["iph"], "3": ["iph"], "4": [], "5": []},
    }
    assert truth.provenance["slice_labels"]["method"] == "vote"
    assert truth.provenance["slice_labels"]["annotators"] == [u.username for u in annotators]
    empty = PanelTruth.objects.get(case=cases[1]).slice_labels["slices"]
    assert empty == {str(p): [] for p in range(N_SLICES)}


def test_slices_without_a_majority_go_to_the_adjudicator(slice_panel):
    panel, cases, annotators = slice_panel(labels=("ich_present", "slice_labels"), n=2)
    _annotate(
        panel, cases, annotators,
        {0: [[(1, "any"), (2, "any")], [(2, "any")]], 1: [[], []]},
    )  # fmt: skip
    open_items = PanelItem.objects.filter(needs_adjudication=True)
    assert [i.key for i in open_items] == ["slice:1:any"]
    adjudicator = panel.adjudicator
    with pytest.raises(PanelError, match="must be one of yes, no"):
        services.adjudicate(adjudicator, panel.pk, cases[0].code, "slice:1:any", "maybe")
    services.adjudicate(adjudicator, panel.pk, cases[0].code, "slice:1:any", True)
    services.finalize(CoordinatorFactory(), panel.pk)
    truth = PanelTruth.objects.get(case=cases[0])
    assert truth.slice_labels["slices"]["1"] == ["any"]
    assert truth.slice_labels["slices"]["2"] == ["any"]
    assert truth.provenance["slice_labels"]["method"] == "adjudication"
    assert truth.provenance["slice_labels"]["adjudicator"] == adjudicator.username


def _fleiss_by_hand(table: list[list[bool]]) -> tuple[float, float]:
    """(kappa, percent agreement) of a subjects x raters yes/no table, from Fleiss (1971)."""
    n = len(table[0])
    yes = [sum(row) for row in table]
    p_i = [(y * (y - 1) + (n - y) * (n - y - 1)) / (n * (n - 1)) for y in yes]
    p_bar = sum(p_i) / len(table)
    p_yes = sum(yes) / (n * len(table))
    p_e = p_yes**2 + (1 - p_yes) ** 2
    return (p_bar - p_e) / (1 - p_e), p_bar * 100


def test_agreement_per_slice_label_counts_every_slice(slice_panel, client):
    panel, cases, annotators = slice_panel(labels=("ich_present", "slice_labels"))
    picks = {0: [[(1, "any"), (2, "any")], [(1, "any")], [(1, "any"), (2, "any")]],
             1: [[(0, "any")], [], []]}  # fmt: skip
    _annotate(panel, cases, annotators, picks)
    table = [
        [any(p == pos for p, _ in picks[c][a]) for a in range(3)]
        for c in range(2)
        for pos in range(N_SLICES)
    ]
    kappa, percent = _fleiss_by_hand(table)
    row = next(a for a in report(panel)["agreement"] if a["key"] == "slice_labels:any")
    assert row["n_slices"] == 2 * N_SLICES and row["n_raters"] == 3
    assert row["fleiss_kappa"] == pytest.approx(kappa)
    assert row["percent_agreement"] == pytest.approx(percent)
    coordinator = CoordinatorFactory()
    assert client.login(username=coordinator.username, password=PASSWORD)
    text = client.get(f"/panels/{panel.pk}/report/agreement.csv").content.decode()
    by_label = {r["label"]: r for r in csv.DictReader(io.StringIO(text))}
    assert float(by_label["slice_labels:any"]["fleiss_kappa"]) == pytest.approx(kappa, abs=1e-4)
    assert by_label["slice_labels:any"]["n_slices"] == str(2 * N_SLICES)
    labels_csv = client.get(f"/panels/{panel.pk}/report/labels.csv").content.decode()
    rows = {(r["case"], r["label"]): r for r in csv.DictReader(io.StringIO(labels_csv))}
    assert rows[(cases[0].code, "slice:2:any")]["A2"] == "no"
    page = client.get(f"/panels/{panel.pk}/report/").content.decode()
    assert "Slices · ANY" in page and "Slice 3 · ANY" in page


def _as(client, user):
    client.logout()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_annotators_never_see_each_other_s_slice_marks(slice_panel, client):
    panel, cases, (a1, a2, a3) = slice_panel(labels=("ich_present", "slice_labels"))
    case = cases[0]
    secret = uid(case, 5)
    services.annotate(
        a1, panel.pk, case.code, {"ich_present": True, "slice_labels": marks(case, (5, "any"))}
    )
    page = _as(client, a2).get(f"/panels/{panel.pk}/annotate/{case.code}/")
    assert page.status_code == 200
    assert secret not in page.content.decode()
    own = _as(client, a1).get(f"/panels/{panel.pk}/annotate/{case.code}/").content.decode()
    assert secret in own  # the annotator's own marks come back to them
    for path in ("report/", "report/labels.csv", ""):
        assert _as(client, a2).get(f"/panels/{panel.pk}/{path}").status_code in (403, 404)
    listing = _as(client, a2).get(f"/panels/{panel.pk}/annotate/").content.decode()
    assert secret not in listing


def test_the_annotation_page_round_trips_the_slice_marks_field(slice_panel, client):
    panel, cases, (a1, *_) = slice_panel(labels=("ich_present", "slice_labels"))
    case = cases[0]
    chosen = json.dumps(marks(case, (3, "any")))
    response = _as(client, a1).post(
        f"/panels/{panel.pk}/annotate/{case.code}/",
        {"ich_present": "yes", "slice_labels": chosen},
    )
    assert response.status_code == 302
    assert Annotation.objects.get().values["slice_labels"][0]["position"] == 3
    bad = client.post(
        f"/panels/{panel.pk}/annotate/{case.code}/", {"ich_present": "yes", "slice_labels": "{"}
    )
    assert bad.status_code == 400 and "not valid JSON" in bad.content.decode()


def test_a_study_on_the_panel_reads_its_slice_truth_as_imported_slice_labels(slice_panel):
    from types import SimpleNamespace

    from readerstudy.studies.endpoints import endpoint_values
    from readerstudy.studies.models import EndpointKind, TruthField

    panel, cases, annotators = slice_panel()
    _annotate(
        panel, cases, annotators,
        {0: [[(2, "iph")], [(2, "iph")], [(2, "iph"), (3, "ivh")]], 1: [[], [], []]},
    )  # fmt: skip
    services.finalize(CoordinatorFactory(), panel.pk)
    endpoint = SimpleNamespace(
        kind=EndpointKind.MULTI_LABEL, truth_field=TruthField.SLICE_LABELS,
        labels=[{"value": v} for v in ("any", "iph", "ivh")], question=None,
        rating_question=None,
    )  # fmt: skip
    truths = {t.case_id: t for t in PanelTruth.objects.all()}
    positive = endpoint_values(endpoint, {}, truths[cases[0].pk])
    assert [(v.endpoint, v.truth) for v in positive] == [("any", 1), ("iph", 1), ("ivh", 0)]
    negative = endpoint_values(endpoint, {}, truths[cases[1].pk])
    assert [v.truth for v in negative] == [0, 0, 0]
