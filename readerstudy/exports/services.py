"""Analysis runs: queued on commit, executed by a worker, files kept in storage."""

import tempfile
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from readerstudy.core.errors import DomainError
from readerstudy.studies.errors import ProtocolConflict
from readerstudy.studies.models import ReaderStudy

from .analysis_inputs import analysis_inputs
from .models import AnalysisRun


def request_analysis(study: ReaderStudy, *, user, with_truth: bool, options: dict) -> AnalysisRun:
    if not with_truth:
        raise ProtocolConflict(
            "blinded", "the analysis needs ground truth, which is withheld until the study closes"
        )
    from .tasks import run_analysis

    with transaction.atomic():
        run = AnalysisRun.objects.create(study=study, requested_by=user, options=dict(options))
        transaction.on_commit(lambda: run_analysis.delay(run_id=str(run.pk)))
    return run


def run_summary(run: AnalysisRun) -> dict:
    return {
        "id": str(run.pk),
        "study": run.study_id,
        "status": run.status,
        "error": run.error,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "summary": run.summary,
        "files": [
            {
                "name": name.rsplit("/", 1)[-1],
                "url": reverse("export-analysis-file", args=[run.pk, name.rsplit("/", 1)[-1]]),
            }
            for name in run.files
        ],
    }


def _fail(run_id: str, error: str) -> None:
    AnalysisRun.objects.filter(pk=run_id).update(
        status=AnalysisRun.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def execute_analysis(*, run_id: str) -> str:
    """Build the report for a run (idempotent: a finished run is left as it is)."""
    from readerstudy.analysis import ReadsValidationError, ReportOptions, build_report

    with transaction.atomic():
        run = AnalysisRun.objects.select_for_update().get(pk=run_id)
        if run.status == AnalysisRun.Status.SUCCEEDED:
            return "already-done"
        run.status = AnalysisRun.Status.RUNNING
        run.save(update_fields=["status"])
    try:
        inputs = analysis_inputs(run.study)
        report = build_report(
            inputs.reads,
            inputs.scores,
            options=ReportOptions(**run.options.get("report", {})),
            context=inputs.context,
            skipped=inputs.skipped,
        )
        names = []
        with tempfile.TemporaryDirectory() as tmp:
            written = report.write(Path(tmp), formats=("json", "csv", "html"))
            inputs_csv = [Path(tmp) / "reads.csv"]
            inputs.reads.to_csv(inputs_csv[0], index=False)
            if inputs.scores is not None:
                inputs_csv.append(Path(tmp) / "scores.csv")
                inputs.scores.to_csv(inputs_csv[1], index=False)
            for path in sorted({*map(Path, written), *inputs_csv}):
                if path.is_file():
                    name = f"analyses/{run.pk}/{path.name}"
                    if default_storage.exists(name):
                        default_storage.delete(name)
                    names.append(default_storage.save(name, ContentFile(path.read_bytes())))
        summary = report.summary()
    except (DomainError, ReadsValidationError) as exc:  # a refusal with its reason, no crash
        _fail(run_id, str(exc))
        return "refused"
    except Exception as exc:
        _fail(run_id, f"{type(exc).__name__}: {exc}")
        raise
    AnalysisRun.objects.filter(pk=run_id).update(
        status=AnalysisRun.Status.SUCCEEDED, files=names, summary=summary, error="",
        finished_at=timezone.now(),
    )  # fmt: skip
    return "done"
