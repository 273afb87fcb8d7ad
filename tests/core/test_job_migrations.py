"""The job-lifecycle migrations keep every existing job, in the state it was in."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from readerstudy.ai.models import InferenceJob
from readerstudy.cases.models import ImportJob
from readerstudy.core.models import WorkerProbe
from readerstudy.exports.models import AnalysisRun

BEFORE = [
    ("cases", "0005_import_job_created_case"),
    ("ai", "0001_initial"),
    ("core", "0001_initial"),
    ("exports", "0001_initial"),
    ("studies", "0005_endpoints"),  # the study conditions need a later ai migration
]


def _series(apps):
    Case = apps.get_model("cases", "Case")
    Series = apps.get_model("cases", "Series")
    case = Case.objects.create(code="C-1", source_key="k" * 64)
    return Series.objects.create(
        case=case, study_instance_uid="1.2", series_instance_uid="1.2.3", modality="CT",
        rows=4, columns=4, num_slices=2, pixel_spacing_row=1, pixel_spacing_col=1,
        slice_spacing=1, orientation=[1, 0, 0, 0, 1, 0], origin=[0, 0, 0], content_hash="h",
    )  # fmt: skip


def _old_rows(apps) -> dict:
    imports = apps.get_model("cases", "ImportJob").objects
    ids = {
        "waiting": imports.create(source="upload", status="waiting").pk,
        "pending": imports.create(source="folder", status="pending").pk,
        "failed": imports.create(
            source="upload", status="failed", phase="failed",
            errors=[{"code": "not_dicom", "message": "no DICOM file"}],
        ).pk,
        "succeeded": imports.create(source="upload", status="succeeded", phase="done").pk,
    }  # fmt: skip
    series = _series(apps)
    model = apps.get_model("ai", "ModelVersion").objects.create(
        model_id="m", version="1", name="m", manifest={}, weights_sha256="0" * 64,
        positive_label="p", operating_points={},
    )  # fmt: skip
    jobs = apps.get_model("ai", "InferenceJob").objects
    for n, (status, progress, error) in enumerate(
        [("running", 40, ""), ("failed", 15, "KeyError: 'unknown model'"), ("succeeded", 100, "")]
    ):
        ids[f"inference_{status}"] = jobs.create(
            case=series.case, series=series, model_version=model, params={"n": n},
            params_hash=str(n), status=status, progress=progress, error=error,
        ).pk  # fmt: skip
    probes = apps.get_model("core", "WorkerProbe").objects
    ids["probe_done"] = probes.create(status="done", completions=1, attempts=2).pk
    ids["probe_queued"] = probes.create().pk
    study = apps.get_model("studies", "ReaderStudy").objects.create(
        title="s", design="crossover", randomization_seed=1
    )
    runs = apps.get_model("exports", "AnalysisRun").objects
    ids["run_failed"] = runs.create(study_id=study.pk, status="failed", error="no truth").pk
    ids["run_succeeded"] = runs.create(study_id=study.pk, status="succeeded", files=["a/b.csv"]).pk
    return ids


@pytest.mark.django_db(transaction=True)
def test_existing_jobs_keep_their_state_through_the_lifecycle_migrations():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    ids = _old_rows(executor.loader.project_state(BEFORE).apps)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    def imp(key):
        return ImportJob.objects.get(pk=ids[key])

    assert (imp("waiting").status, imp("waiting").phase, imp("waiting").is_waiting) == (
        "queued", "waiting", True,
    )  # fmt: skip
    assert (imp("pending").status, imp("pending").phase) == ("queued", "")
    failed = imp("failed")
    assert (failed.status, failed.error_code, failed.error) == (
        "failed",
        "not_dicom",
        "no DICOM file",
    )
    assert failed.errors == [{"code": "not_dicom", "message": "no DICOM file"}]
    assert imp("succeeded").status == "succeeded"

    running = InferenceJob.objects.get(pk=ids["inference_running"])
    assert (running.status, running.done, running.total, running.percent) == (
        "running",
        40,
        100,
        40.0,
    )
    broken = InferenceJob.objects.get(pk=ids["inference_failed"])
    assert (broken.error_code, broken.error) == ("KeyError", "KeyError: 'unknown model'")
    assert InferenceJob.objects.get(pk=ids["inference_succeeded"]).percent == 100.0

    done = WorkerProbe.objects.get(pk=ids["probe_done"])
    assert (done.status, done.completions, done.attempts) == ("succeeded", 1, 2)
    assert WorkerProbe.objects.get(pk=ids["probe_queued"]).status == "queued"

    run = AnalysisRun.objects.get(pk=ids["run_failed"])
    assert (run.status, run.error_code, run.error) == ("failed", "analysis_failed", "no truth")
    assert AnalysisRun.objects.get(pk=ids["run_succeeded"]).files == ["a/b.csv"]


@pytest.mark.django_db(transaction=True)
def test_the_lifecycle_migrations_can_be_reversed():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    job = ImportJob.objects.create(source="upload", status="queued", phase="waiting")
    probe = WorkerProbe.objects.create(status="succeeded")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    assert apps.get_model("cases", "ImportJob").objects.get(pk=job.pk).status == "waiting"
    assert apps.get_model("core", "WorkerProbe").objects.get(pk=probe.pk).status == "done"
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
