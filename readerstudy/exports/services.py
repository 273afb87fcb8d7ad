"""Analysis runs: queued on commit, executed by a worker, files kept in storage."""

import tempfile
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from readerstudy.studies.errors import ProtocolConflict
from readerstudy.studies.models import ReaderStudy

from .models import AnalysisRun
from .reads import reads_table


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


def execute_analysis(*, run_id: str) -> str:
    """Build the report for a run (idempotent: a finished run is left as it is)."""
    from readerstudy.analysis import ReportOptions, build_report

    with transaction.atomic():
        run = AnalysisRun.objects.select_for_update().get(pk=run_id)
        if run.status == AnalysisRun.Status.SUCCEEDED:
            return "already-done"
        run.status = AnalysisRun.Status.RUNNING
        run.save(update_fields=["status"])
    try:
        reads = reads_table(run.study, with_truth=True)
        analysis_reads = reads[["reader", "case", "condition", "truth", "decision", "rating"]]
        if analysis_reads["rating"].isna().all():
            analysis_reads = analysis_reads.drop(columns=["rating"])
        report = build_report(
            analysis_reads, options=ReportOptions(**run.options.get("report", {}))
        )
        names = []
        with tempfile.TemporaryDirectory() as tmp:
            written = report.write(Path(tmp), formats=("json", "csv", "html"))
            reads_csv = Path(tmp) / "reads.csv"
            analysis_reads.to_csv(reads_csv, index=False)
            for path in sorted({*map(Path, written), reads_csv}):
                if path.is_file():
                    name = f"analyses/{run.pk}/{path.name}"
                    if default_storage.exists(name):
                        default_storage.delete(name)
                    names.append(default_storage.save(name, ContentFile(path.read_bytes())))
        summary = report.summary() if hasattr(report, "summary") else {}
    except Exception as exc:
        AnalysisRun.objects.filter(pk=run_id).update(
            status=AnalysisRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )  # fmt: skip
        raise
    AnalysisRun.objects.filter(pk=run_id).update(
        status=AnalysisRun.Status.SUCCEEDED, files=names, summary=summary, error="",
        finished_at=timezone.now(),
    )  # fmt: skip
    return "done"
