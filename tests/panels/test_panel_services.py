"""Create, annotate, vote, adjudicate, finalize: the panel's truth and its provenance."""

import pytest

from readerstudy.audit.models import AuditEntry
from readerstudy.panels import services
from readerstudy.panels.errors import PanelConflict, PanelError, PanelNotAvailable
from readerstudy.panels.models import Annotation, Panel, PanelItem, PanelTruth, Rule
from tests.factories import AdjudicatorFactory, AnnotatorFactory, ReaderFactory, cases_with_series

from .conftest import annotate_all

pytestmark = pytest.mark.django_db


def test_create_refuses_users_without_the_annotator_role_and_stores_nothing():
    cases = cases_with_series(1)
    with pytest.raises(PanelError, match="not annotators") as exc:
        services.create_panel(
            title="p", cases=cases, annotators=[AnnotatorFactory(), ReaderFactory(username="rd")],
            adjudicator=AdjudicatorFactory(), labels=["ich_present"],
        )  # fmt: skip
    assert "rd" in exc.value.message
    assert Panel.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"labels": []}, "labels_required"),
        ({"labels": ["mask"]}, "unknown_label"),
        ({"rule": "dictator"}, "unknown_rule"),
        ({"cases": []}, "cases_required"),
        ({"adjudicator": None}, "not_an_adjudicator"),
        ({"labels": ["etiology"], "etiology_values": ["a", "a"]}, "bad_etiology_values"),
    ],
)
def test_create_names_the_problem(change, code):
    kwargs = {
        "title": "p", "cases": cases_with_series(1),
        "annotators": [AnnotatorFactory(), AnnotatorFactory()],
        "adjudicator": AdjudicatorFactory(), "labels": ["ich_present"], **change,
    }  # fmt: skip
    with pytest.raises(PanelError) as exc:
        services.create_panel(**kwargs)
    assert exc.value.code == code
    assert Panel.objects.count() == 0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"ich_present": "yes", "subtypes": [], "location": ""}, "true or false"),
        ({"ich_present": False, "subtypes": ["iph"], "location": ""}, "only when ICH"),
        ({"ich_present": True, "subtypes": ["xyz"], "location": "deep"}, "subtypes must be"),
        ({"ich_present": True, "subtypes": [], "location": ""}, "give the location"),
        ({"ich_present": True, "subtypes": [], "location": "deep", "etiology": "x"}, "does not"),
    ],
)
def test_bad_annotations_are_refused_with_the_reason(panel_world, values, message):
    world = panel_world()
    user = world["annotators"][0]
    with pytest.raises(PanelError, match=message):
        services.annotate(user, world["panel"].pk, world["cases"][0].code, values)
    assert Annotation.objects.count() == 0


def test_only_the_panel_s_annotators_can_annotate(panel_world):
    world = panel_world()
    with pytest.raises(PanelNotAvailable):
        services.annotate(
            AnnotatorFactory(), world["panel"].pk, world["cases"][0].code, {"ich_present": False}
        )


def test_the_vote_starts_when_the_last_annotation_arrives(panel_world):
    world = panel_world()
    panel = world["panel"]
    annotate_all(world)
    panel.refresh_from_db()
    assert panel.status == Panel.Status.ADJUDICATING
    items = {
        (i.panel_case.case.code, i.key): i
        for i in PanelItem.objects.filter(panel_case__panel=panel).select_related(
            "panel_case__case"
        )
    }
    case0, case1 = (c.code for c in world["cases"])
    assert len(items) == 2 * (1 + 5 + 1)  # ich_present, five subtypes, location
    assert not any(i.needs_adjudication for (code, _), i in items.items() if code == case0)
    assert items[(case1, "ich_present")].value is True  # 2:1
    assert items[(case1, "subtype:ivh")].value is False  # 1:2
    location = items[(case1, "location")]
    assert location.needs_adjudication and location.value is None
    assert location.votes == {"A1": "lobar", "A2": "deep", "A3": "none"}
    with pytest.raises(PanelConflict, match="annotation is over"):
        services.annotate(world["annotators"][0], panel.pk, case0, LABELS_NONE)


LABELS_NONE = {"ich_present": False, "subtypes": [], "location": ""}


def test_unanimous_rule_routes_every_disagreement(panel_world):
    world = panel_world(rule=Rule.UNANIMOUS)
    annotate_all(world)
    flagged = set(PanelItem.objects.filter(needs_adjudication=True).values_list("key", flat=True))
    assert flagged == {"ich_present", "subtype:iph", "subtype:ivh", "location"}


def test_finalize_waits_for_the_adjudicator_then_stores_truth_with_provenance(panel_world):
    world = panel_world()
    panel, adjudicator, coordinator = world["panel"], world["adjudicator"], world["coordinator"]
    annotate_all(world)
    case0, case1 = (c.code for c in world["cases"])
    with pytest.raises(PanelConflict, match="wait for the adjudicator") as exc:
        services.finalize(coordinator, panel.pk)
    assert case1 in exc.value.message
    with pytest.raises(PanelNotAvailable):  # another adjudicator
        services.adjudicate(AdjudicatorFactory(), panel.pk, case1, "location", "deep")
    with pytest.raises(PanelError, match="must be one of"):
        services.adjudicate(adjudicator, panel.pk, case1, "location", "frontal")
    with pytest.raises(PanelError, match="no 'ich_present' item"):  # settled by the vote
        services.adjudicate(adjudicator, panel.pk, case1, "ich_present", False)
    services.adjudicate(adjudicator, panel.pk, case1, "location", "deep")
    services.finalize(coordinator, panel.pk)
    panel.refresh_from_db()
    assert panel.status == Panel.Status.FINISHED and panel.finished_at is not None
    truths = {t.case.code: t for t in PanelTruth.objects.select_related("case")}
    assert (truths[case0].ich_present, truths[case0].subtypes, truths[case0].location) == (
        True, ["iph"], "lobar",
    )  # fmt: skip
    assert (truths[case1].ich_present, truths[case1].subtypes, truths[case1].location) == (
        True, ["iph"], "deep",
    )  # fmt: skip
    names = [u.username for u in world["annotators"]]
    provenance = truths[case1].provenance
    assert provenance["ich_present"]["method"] == "vote"
    assert provenance["subtypes"]["method"] == "vote"
    assert provenance["location"]["method"] == "adjudication"
    assert provenance["location"]["adjudicator"] == adjudicator.username
    assert all(p["annotators"] == names and p["at"] for p in provenance.values())
    with pytest.raises(PanelConflict):  # only once
        services.finalize(coordinator, panel.pk)


def test_each_step_is_in_the_audit_trail(panel_world):
    world = panel_world()
    annotate_all(world)
    case1 = world["cases"][1].code
    services.adjudicate(world["adjudicator"], world["panel"].pk, case1, "location", "lobar")
    services.finalize(world["coordinator"], world["panel"].pk)
    kinds = list(AuditEntry.objects.filter(kind__startswith="panel.").values_list("kind", "actor"))
    assert kinds.count(("panel.create", world["coordinator"].pk)) == 1
    assert sum(1 for k, _ in kinds if k == "panel.annotate") == 6
    assert ("panel.adjudicate", world["adjudicator"].pk) in kinds
    assert ("panel.finalize", world["coordinator"].pk) in kinds
    adjudication = AuditEntry.objects.get(kind="panel.adjudicate")
    assert adjudication.additional_data["votes"] == {"A1": "lobar", "A2": "deep", "A3": "none"}
