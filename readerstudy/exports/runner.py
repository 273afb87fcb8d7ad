"""Analysis runs, worker side: build the report of a study and store its files.

Phases: ``inputs`` (the reads table), ``statistics`` (the report), ``files`` (``done`` of
``total`` files stored). A run cancelled meanwhile stops at the next phase; files it stored
are deleted again.
"""

import logging
import tempfile
import time
from importlib import metadata
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from readerstudy.core.errors import DomainError
from readerstudy.core.jobs import JobCancelled
from readerstudy.studies.errors import ProtocolConflict

from .analysis_inputs import analysis_inputs
from .models import AnalysisRun

log = logging.getLogger(__name__)
LIBRARIES = ("numpy", "pandas", "scipy", "statsmodels")


def library_versions() -> dict[str, str]:
    import platform

    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _report_paths(report, inputs, tmp: Path) -> list[Path]:
    written = report.write(tmp, formats=("json", "csv", "html"))
    inputs_csv = [tmp / "reads.csv"]
    inputs.reads.to_csv(inputs_csv[0], index=False)
    if inputs.scores is not None:
        inputs_csv.append(tmp / "scores.csv")
        inputs.scores.to_csv(inputs_csv[1], index=False)
    return [p for p in sorted({*map(Path, written), *inputs_csv}) if p.is_file()]


def _store(run: AnalysisRun, paths: list[Path], names: list[str]) -> None:
    for index, path in enumerate(paths):
        run.progress(AnalysisRun.Phase.FILES, done=index, total=len(paths))
        name = f"analyses/{run.pk}/{path.name}"
        if default_storage.exists(name):
            default_storage.delete(name)
        names.append(default_storage.save(name, ContentFile(path.read_bytes())))


def _build(run: AnalysisRun, names: list[str], steps: dict[str, float]) -> dict:
    from readerstudy.analysis import ReportOptions, build_report

    if "froc" in run.options:
        from .froc_run import build_froc

        return build_froc(run, names, steps, _store)
    t = time.perf_counter()
    run.progress(AnalysisRun.Phase.INPUTS, done=0, total=0)
    inputs = analysis_inputs(run.study)
    steps["inputs_s"] = time.perf_counter() - t
    t = time.perf_counter()
    run.progress(AnalysisRun.Phase.STATISTICS)
    options = dict(run.options.get("report", {}))
    if inputs.primary_endpoint is not None:
        options.setdefault("primary_endpoint", inputs.primary_endpoint)
    _check_primary(options, inputs.reads)
    report = build_report(
        inputs.reads,
        inputs.scores,
        options=ReportOptions(**options),
        context=inputs.context,
        skipped=inputs.skipped,
    )
    steps["statistics_s"] = time.perf_counter() - t
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        _store(run, _report_paths(report, inputs, Path(tmp)), names)
    steps["files_s"] = time.perf_counter() - t
    summary = report.summary()
    if report.by_endpoint:
        summary["endpoint_sections"] = endpoint_sections(report)
    return summary


def endpoint_sections(report) -> list[dict]:
    """Each endpoint's section of report.html (heading and anchor), for the analysis page."""
    from readerstudy.analysis.render_endpoints import endpoint_parts

    return [
        {"anchor": part.anchor, "heading": part.heading}
        for part in endpoint_parts(report)
        if part.level == 2 and part.anchor != "endpoints"
    ]


def _check_primary(options: dict, reads) -> None:
    chosen = options.get("primary_endpoint")
    names = list(dict.fromkeys(reads["endpoint"])) if "endpoint" in reads else []
    if chosen is not None and chosen not in names:
        raise ProtocolConflict(
            "unknown_endpoint",
            f"primary endpoint {chosen!r} is not analysed; endpoints: {', '.join(names) or 'none'}",
        )


def _delete(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            log.warning("could not delete %s of a cancelled analysis", name)


def execute_analysis(*, run_id: str) -> str:
    """Build the report for a run (idempotent: a finished or cancelled run is left as it is)."""
    from readerstudy.analysis import ReadsValidationError

    run = AnalysisRun.claim(run_id, related=("study",))
    if run is None:
        done = AnalysisRun.objects.filter(pk=run_id, status=AnalysisRun.Status.SUCCEEDED)
        return "already-done" if done.exists() else "skipped"
    started = time.perf_counter()
    names: list[str] = []
    steps: dict[str, float] = {}
    try:
        summary = _build(run, names, steps)
        timings = {k: round(v, 4) for k, v in steps.items()}
        timings["total_s"] = round(time.perf_counter() - started, 3)
        finished = run.succeed(
            files=names, summary=summary, error="", error_code="", phase="",
            done=len(names), total=len(names), timings=timings, versions=library_versions(),
        )  # fmt: skip
        if not finished:  # cancelled while it ran: its files go
            raise JobCancelled(run_id)
    except JobCancelled:
        run.acknowledge_cancel()
        _delete(names)
        return "cancelled"
    except DomainError as exc:  # a refusal with its reason, no crash
        run.fail(exc.message, code=exc.code)
        return "refused"
    except ReadsValidationError as exc:
        run.fail(str(exc), code="invalid_reads")
        return "refused"
    except Exception as exc:
        run.fail_from(exc)
        raise
    return "done"
