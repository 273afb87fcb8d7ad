"""The migration to per-condition assistance: existing studies get their conditions, and back."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.exceptions import IrreversibleError
from django.db.migrations.executor import MigrationExecutor

from readerstudy.studies.models import AssistanceConfig, ReaderStudy, StudyCondition
from tests.factories import ModelVersionFactory

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = ("studies", "0005_endpoints")


def _old_apps():
    return MigrationExecutor(connection).loader.project_state(BEFORE).apps


def _old_studies(model_pk):
    apps = _old_apps()
    Study = apps.get_model("studies", "ReaderStudy")
    Config = apps.get_model("studies", "AssistanceConfig")
    made = {}
    for design in ("sequential", "crossover", "unaided_only"):
        study = Study.objects.create(title=design, design=design, randomization_seed=1)
        Config.objects.create(study=study, model_version_id=model_pk, heatmaps=["ig"])
        made[design] = study.pk
    bare = Study.objects.create(title="bare", design="two_sessions", randomization_seed=1)
    made["bare"] = bare.pk
    return made


@pytest.fixture
def migrated_back():
    call_command("migrate", "studies", BEFORE[1], verbosity=0)
    yield
    call_command("migrate", verbosity=0)


def test_existing_studies_get_unaided_and_aided_and_go_back(migrated_back):
    model = ModelVersionFactory()
    made = _old_studies(model.pk)
    call_command("migrate", "studies", verbosity=0)
    for design in ("sequential", "crossover"):
        study = ReaderStudy.objects.get(pk=made[design])
        assert list(study.conditions.values_list("code", "name", "order")) == [
            ("unaided", "Unaided", 0), ("aided", "Aided", 1),
        ]  # fmt: skip
        config = study.conditions.get(code="aided").assistance
        assert (config.model_version, config.heatmaps) == (model, ["ig"])
        assert study.assistance == config
    only = ReaderStudy.objects.get(pk=made["unaided_only"])
    assert list(only.conditions.values_list("code", flat=True)) == ["unaided"]
    assert only.assistance.condition is None and only.assistance.model_version == model
    bare = ReaderStudy.objects.get(pk=made["bare"])  # aided, but had no configuration
    assert bare.conditions.get(code="aided").assistance.model_version is None

    call_command("migrate", "studies", BEFORE[1], verbosity=0)
    Config = _old_apps().get_model("studies", "AssistanceConfig")
    for design in ("sequential", "crossover", "unaided_only"):
        config = Config.objects.get(study_id=made[design])
        assert (config.model_version_id, config.heatmaps) == (model.pk, ["ig"])
    assert Config.objects.filter(study_id=made["bare"]).count() == 1


def test_going_back_refuses_conditions_the_old_schema_cannot_hold(migrated_back):
    made = _old_studies(None)
    call_command("migrate", "studies", verbosity=0)
    study = ReaderStudy.objects.get(pk=made["crossover"])
    extra = StudyCondition.objects.create(study=study, code="second", name="Second", order=2)
    AssistanceConfig.objects.create(study=study, condition=extra)
    with pytest.raises(IrreversibleError, match="other than unaided and aided"):
        call_command("migrate", "studies", BEFORE[1], verbosity=0)
    assert study.conditions.count() == 3  # nothing was changed
