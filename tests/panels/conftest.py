import pytest
from django.test import TestCase

from readerstudy.panels import services
from readerstudy.panels.models import Rule
from tests.factories import (
    AdjudicatorFactory,
    AnnotatorFactory,
    CoordinatorFactory,
    cases_with_series,
)

# Three annotators' labels of two cases: they agree on case 0; on case 1 A3 says no ICH, so
# ICH present is 2:1, IVH 1:2 and the location lobar / deep / none has no majority.
LABELS = {
    0: [
        {"ich_present": True, "subtypes": ["iph"], "location": "lobar"},
        {"ich_present": True, "subtypes": ["iph"], "location": "lobar"},
        {"ich_present": True, "subtypes": ["iph"], "location": "lobar"},
    ],
    1: [
        {"ich_present": True, "subtypes": ["iph", "ivh"], "location": "lobar"},
        {"ich_present": True, "subtypes": ["iph"], "location": "deep"},
        {"ich_present": False, "subtypes": [], "location": ""},
    ],
}


@pytest.fixture
def panel_world(db):
    def make(rule=Rule.MAJORITY, labels=("ich_present", "subtypes", "location")):
        cases = cases_with_series(2)
        annotators = [AnnotatorFactory() for _ in range(3)]
        adjudicator = AdjudicatorFactory()
        coordinator = CoordinatorFactory()
        panel = services.create_panel(
            title="ICH panel",
            cases=cases,
            annotators=annotators,
            adjudicator=adjudicator,
            labels=list(labels),
            rule=rule,
            created_by=coordinator,
        )
        return {
            "panel": panel, "cases": cases, "annotators": annotators,
            "adjudicator": adjudicator, "coordinator": coordinator,
        }  # fmt: skip

    return make


def annotate_all(world, labels=LABELS):
    """Every annotator labels every case; the vote their last annotation queues runs (as a
    worker would once the request commits)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        for index, case in enumerate(world["cases"]):
            for user, values in zip(world["annotators"], labels[index], strict=True):
                kept = {k: v for k, v in values.items() if k in world["panel"].labels}
                services.annotate(user, world["panel"].pk, case.code, kept)
