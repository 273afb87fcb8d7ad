"""The migration to per-label outputs: stored decisions {op: label} become {op: {label: 0|1}}
on the version's positive label, heatmaps get that label; and back."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from readerstudy.ai.models import Heatmap, InferenceOutput
from tests.factories import ModelVersionFactory, cases_with_series, make_inference_output

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = ("ai", "0003_remove_inferencejob_progress")


def _old_apps():
    return MigrationExecutor(connection).loader.project_state(BEFORE).apps


def test_decisions_and_heatmap_labels_migrate_both_ways():
    version = ModelVersionFactory(manifest={"labels": ["cvst_ich", "sich"]})
    first, second = (make_inference_output(c, version) for c in cases_with_series(2))
    call_command("migrate", "ai", BEFORE[1], verbosity=0)
    Output = _old_apps().get_model("ai", "InferenceOutput")
    Output.objects.filter(pk=first.pk).update(
        decisions={"high_sensitivity": "cvst_ich", "high_specificity": "sich"}
    )
    Output.objects.filter(pk=second.pk).update(decisions={"high_sensitivity": "sich"})
    call_command("migrate", "ai", verbosity=0)
    assert InferenceOutput.objects.get(pk=first.pk).decisions == {
        "high_sensitivity": {"cvst_ich": 1}, "high_specificity": {"cvst_ich": 0}
    }  # fmt: skip
    assert InferenceOutput.objects.get(pk=second.pk).decisions == {
        "high_sensitivity": {"cvst_ich": 0}
    }
    assert set(Heatmap.objects.values_list("label", flat=True)) == {"cvst_ich"}
    call_command("migrate", "ai", BEFORE[1], verbosity=0)
    Output = _old_apps().get_model("ai", "InferenceOutput")
    assert Output.objects.get(pk=first.pk).decisions == {
        "high_sensitivity": "cvst_ich", "high_specificity": "sich"
    }  # fmt: skip
    call_command("migrate", "ai", verbosity=0)
