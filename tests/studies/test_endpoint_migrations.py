"""An existing study gets its etiology endpoint, keeps it going forward, and gets its labels back."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from readerstudy.studies.models import Endpoint, ReaderStudy

BEFORE = [("studies", "0004_truth_pending_allowed")]
ENDPOINTS = [("studies", "0005_endpoints")]
BEFORE_DROP = [("studies", "0007_conditions_data")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _old_study(apps) -> int:
    study = apps.get_model("studies", "ReaderStudy").objects.create(
        title="old", design="unaided_only", randomization_seed=1,
        positive_label="cvt", negative_label="other",
    )  # fmt: skip
    questions = apps.get_model("studies", "Question").objects
    questions.create(
        study=study, code="diagnosis", type="binary", text="Cause", is_primary=True, order=0,
        options=[{"value": "other", "label": "Other hematoma"}, {"value": "cvt", "label": "CVT"}],
    )  # fmt: skip
    questions.create(study=study, code="sure", type="confidence_100", text="%", is_primary=True)
    questions.create(study=study, code="note", type="free_text", text="Note", required=False)
    return study.pk


@pytest.mark.django_db(transaction=True)
def test_existing_studies_get_their_endpoint_and_get_their_labels_back():
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        pk = _old_study(_migrate(BEFORE))
        apps = _migrate(ENDPOINTS)
        [endpoint] = apps.get_model("studies", "Endpoint").objects.filter(study_id=pk)
        assert (endpoint.code, endpoint.kind, endpoint.truth_field, endpoint.is_primary) == (
            "etiology", "binary", "etiology", True,
        )  # fmt: skip
        assert endpoint.labels == [
            {"value": "cvt", "label": "CVT"}, {"value": "other", "label": "Other hematoma"},
        ]  # fmt: skip
        assert (endpoint.question.code, endpoint.rating_question.code) == ("diagnosis", "sure")

        _migrate(leaves)
        study = ReaderStudy.objects.get(pk=pk)
        assert [e.code for e in study.endpoints.all()] == ["etiology"]
        assert not hasattr(study, "positive_label")
        Endpoint.objects.filter(study=study).update(
            labels=[{"value": "cvt", "label": "CVT"}, {"value": "other", "label": "Other"}]
        )

        apps = _migrate(BEFORE_DROP)
        old = apps.get_model("studies", "ReaderStudy").objects.get(pk=pk)
        assert (old.positive_label, old.negative_label) == ("cvt", "other")
        apps = _migrate(BEFORE)
        assert apps.get_model("studies", "ReaderStudy").objects.filter(pk=pk).exists()
        assert "studies_endpoint" not in connection.introspection.table_names()
    finally:
        _migrate(leaves)
