"""The migration to one exposure per read and output merges the rows recorded per view."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from readerstudy.reading.models import AssistanceExposure
from readerstudy.studies.models import Assignment, Design
from tests.factories import make_inference_output

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = ("reading", "0002_order_by_parent_id")


def test_duplicate_exposures_become_one_row_with_the_first_shown_and_every_view(make_study):
    study, (reader, _) = make_study(Design.SEQUENTIAL_PER_CASE, n_cases=2)
    aided = Assignment.objects.filter(study=study, reader__user=reader, condition="aided")
    aided_ids = [a.pk for a in aided]
    version = study.assistance.model_version
    outputs = [make_inference_output(a.study_case.case, version) for a in aided]
    call_command("migrate", "reading", BEFORE[1], verbosity=0)
    old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
    Exposure = old.get_model("reading", "AssistanceExposure")
    t0 = timezone.now() - timedelta(days=1)
    rows = [(aided_ids[0], outputs[0], {"first": True}, t0)]
    rows += [
        (aided_ids[0], outputs[0], {"first": False}, t0 + timedelta(minutes=m)) for m in (5, 9)
    ]
    rows += [(aided_ids[1], outputs[1], {"only": True}, t0)]
    for assignment_id, output, shown, at in rows:
        row = Exposure.objects.create(
            assignment_id=assignment_id, model_version_id=version.pk,
            inference_output_id=output.pk, shown=shown,
        )  # fmt: skip
        Exposure.objects.filter(pk=row.pk).update(served_at=at)
    call_command("migrate", "reading", verbosity=0)
    merged = AssistanceExposure.objects.get(assignment_id=aided_ids[0])
    assert (merged.shown, merged.served_at, merged.views) == ({"first": True}, t0, 3)
    assert merged.last_viewed_at == t0 + timedelta(minutes=9)
    single = AssistanceExposure.objects.get(assignment_id=aided_ids[1])
    assert (single.views, single.last_viewed_at) == (1, t0)
