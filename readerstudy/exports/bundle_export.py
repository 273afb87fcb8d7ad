"""Write a study bundle: the design, the reads, the cases, truth, models, software, the report.

The zip is written to a temporary file beside ``out`` and renamed into place when complete, so
a failed export leaves nothing. Tables are streamed row by row into the zip while their sha256
is computed; the report is built from the bundled analysis files' bytes by the same function
the CLI's ``report --bundle`` runs (``readerstudy.analysis.bundle.bundle_report``).
"""

import csv
import dataclasses
import hashlib
import io
import os
import platform
import subprocess
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from readerstudy import audit
from readerstudy.ai.models import ModelVersion
from readerstudy.analysis import bundle as fmt
from readerstudy.studies.errors import StudyError
from readerstudy.studies.models import ReaderStudy
from readerstudy.version import __version__

from . import bundle_masks as masks
from . import bundle_panel as panel
from . import bundle_tables as tables
from .analysis_inputs import analysis_inputs
from .bundle_codec import dict_of
from .model_reads import latest_outputs, study_model
from .models import AnalysisRun


class _Hashing(io.RawIOBase):
    """A write-only stream that hashes and counts what passes to ``raw``."""

    def __init__(self, raw):
        self.raw, self.digest, self.size = raw, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.raw.write(data)


class _Writer:
    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        self.files: dict[str, tuple[str, int]] = {}

    def _open(self, name: str) -> _Hashing:
        return _Hashing(self.archive.open(name, "w", force_zip64=True))

    def _done(self, name: str, stream: _Hashing) -> None:
        stream.raw.close()
        self.files[name] = (stream.digest.hexdigest(), stream.size)

    def bytes(self, name: str, data: bytes) -> None:
        stream = self._open(name)
        stream.write(data)
        self._done(name, stream)

    def json(self, name: str, data: Any) -> None:
        self.bytes(name, fmt.dumps(data))

    def csv(self, name: str, header: list[str], rows: Iterable[list]) -> int:
        stream = self._open(name)
        text = io.TextIOWrapper(io.BufferedWriter(stream, 1 << 20), encoding="utf-8", newline="")
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(header)
        count = 0
        try:
            for row in rows:
                writer.writerow(row)
                count += 1
        except BaseException:
            stream.raw.close()  # the zip closes (and the export is removed) with the error
            raise
        text.flush()
        text.detach().flush()
        self._done(name, stream)
        return count

    def stored(self, name: str, storage_name: str) -> None:
        stream = self._open(name)
        with default_storage.open(storage_name, "rb") as handle:
            while chunk := handle.read(1 << 20):
                stream.write(chunk)
        self._done(name, stream)


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    bytes: int
    files: int
    rows: dict[str, int]
    report_sha256: str


# --- design, models, software ----------------------------------------------------------------


def _username(user) -> str | None:
    return user.username if user is not None else None


def design(study: ReaderStudy) -> dict[str, Any]:
    """study.json: the study and its protocol (keys by code, index and name, never ids), and
    where its truth comes from (``panel``: the bundle holds the panel's record)."""
    sessions = {s.pk: s.index for s in study.sessions.all()}
    return {
        "truth_source": study.truth_source,
        "study": {**dict_of(study), "created_by": _username(study.created_by)},
        "conditions": [dict_of(c) for c in study.conditions.order_by("order", "code")],
        "sessions": [dict_of(s) for s in study.sessions.order_by("index")],
        "arms": [
            {
                **dict_of(arm),
                "schedule": [
                    {**dict_of(e), "session": sessions[e.session_id]}
                    for e in arm.schedule.order_by("session__index", "step", "id")
                ],
            }
            for arm in study.arms.order_by("name")
        ],
        "questions": [dict_of(q) for q in study.questions.order_by("order", "code")],
        "endpoints": [
            {
                **dict_of(e),
                "question": e.question.code if e.question else None,
                "rating_question": e.rating_question.code if e.rating_question else None,
            }
            for e in study.endpoints.select_related("question", "rating_question").order_by(
                "order", "code"
            )
        ],
        "assistance": [
            {
                **dict_of(c),
                "condition": c.condition.code if c.condition else None,
                "model": (
                    {"model_id": c.model_version.model_id, "version": c.model_version.version}
                    if c.model_version
                    else None
                ),
            }
            for c in study.assistance_configs.select_related("condition", "model_version").order_by(
                "condition__order", "id"
            )
        ],  # fmt: skip
        "consent_versions": [
            {**dict_of(v), "created_by": _username(v.created_by)}
            for v in study.consent_versions.order_by("number")
        ],
    }


def _models(ids: set[int]) -> list[dict[str, Any]]:
    return [
        {**dict_of(m), "registered_by": _username(m.registered_by)}
        for m in ModelVersion.objects.filter(pk__in=ids).order_by("model_id", "version")
    ]


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _r_packages() -> dict[str, Any]:
    from readerstudy.analysis.lmm_r import r_available, r_versions

    ok, why = r_available()
    if not ok:
        return {"available": False, "reason": why}
    return {"available": True, "packages": r_versions()}


def software() -> dict[str, Any]:
    packages = {
        (d.metadata["Name"] or "").lower(): d.version
        for d in metadata.distributions()
        if d.metadata["Name"]
    }
    return {
        "platform": {"version": __version__, "commit": _git_commit()},
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
        },
        "packages": dict(sorted(packages.items())),
        "r": _r_packages(),
    }


# --- analysis --------------------------------------------------------------------------------


def default_report_options(study: ReaderStudy) -> dict[str, Any]:
    """The options of the study's latest finished analysis run (none: the defaults)."""
    run = (
        AnalysisRun.objects.filter(study=study, status=AnalysisRun.Status.SUCCEEDED)
        .order_by("-created_at")
        .first()
    )
    return dict((run.options or {}).get("report", {})) if run else {}


def _analysis(writer: _Writer, study: ReaderStudy, options: dict, created_at: str) -> bytes:
    from readerstudy.analysis import ReportOptions

    inputs = analysis_inputs(study)
    options = dict(options)
    if inputs.primary_endpoint is not None:
        options.setdefault("primary_endpoint", inputs.primary_endpoint)
    try:
        resolved = dataclasses.asdict(ReportOptions(**options))
    except TypeError as exc:
        raise fmt.BundleError("invalid_options", f"report options: {exc}") from exc
    spec = fmt.dumps(
        {
            "report_options": resolved,
            "context": inputs.context,
            "skipped": inputs.skipped,
            "created_at": created_at,
        }
    )
    reads = inputs.reads.to_csv(index=False, lineterminator="\n").encode()
    scores = None
    if inputs.scores is not None:
        scores = inputs.scores.to_csv(index=False, lineterminator="\n").encode()
    writer.bytes(fmt.OPTIONS, spec)
    writer.bytes(fmt.READS, reads)
    if scores is not None:
        writer.bytes(fmt.SCORES, scores)
    report = fmt.bundle_report(spec, reads, scores)
    writer.bytes(fmt.REPORT, report)
    return report


# --- the bundle ------------------------------------------------------------------------------


def _latest_output_ids(study: ReaderStudy) -> set[int]:
    version, _ = study_model(study)
    if version is None:
        return set()
    return {o.pk for o in latest_outputs(study, version).values()}


def _images(writer: _Writer, study: ReaderStudy) -> None:
    seen: set[str] = set()
    rows = tables.instance_rows(study).exclude(file="").values_list("sha256", "file")
    for digest, name in rows.iterator(chunk_size=tables.CHUNK):
        if digest not in seen:
            seen.add(digest)
            writer.stored(f"{fmt.IMAGES}{digest}.dcm", name)


def _write(archive: zipfile.ZipFile, study, options, created_at, images) -> tuple[dict, bytes]:
    writer = _Writer(archive)
    writer.json("study.json", design(study))
    rows: dict[str, int] = {}
    listed = [*tables.study_tables(study), (masks.CASE_MASKS, masks.case_mask_rows(study))]
    if study.truth_panel_id:
        writer.json(panel.PANEL, panel.panel_record(study))
        listed += panel.panel_tables(study)
    files = masks.MaskFiles()
    for table, queryset in listed:
        rows[table.name] = writer.csv(table.name, table.header, table.rows(queryset, files.path))
    files.write(writer)
    outputs = list(tables.study_outputs(study, _latest_output_ids(study)))
    rows["outputs.csv"] = writer.csv(
        "outputs.csv", tables.output_header(), tables.output_rows(outputs)
    )
    model_ids = {o.job.model_version_id for o in outputs}
    model_ids |= {c.model_version_id for c in study.assistance_configs.all() if c.model_version_id}
    writer.json("models.json", _models(model_ids))
    writer.json("software.json", software())
    report = _analysis(writer, study, options, created_at)
    if images:
        _images(writer, study)
    summary = {"id": study.pk, "title": study.title, "status": study.status}
    archive.writestr(fmt.MANIFEST, fmt.manifest(writer.files, created_at=created_at, study=summary))
    return rows, report


def export_bundle(
    study: ReaderStudy,
    out: str | Path,
    *,
    user=None,
    report_options: dict | None = None,
    images: bool = False,
) -> ExportSummary:
    """Write the bundle of ``study`` to ``out`` (replaced when complete); audit-logged."""
    out = Path(out)
    created_at = timezone.now().isoformat(timespec="seconds")
    options = default_report_options(study) if report_options is None else report_options
    fd, tmp = tempfile.mkstemp(prefix=".bundle-", suffix=".zip", dir=out.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            rows, report = _write(archive, study, options, created_at, images)
            files = len(archive.namelist())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    size = out.stat().st_size
    with out.open("rb") as handle:
        digest, _ = fmt.sha256_of(handle)
    audit.record(
        user, "bundle.export", study, file=out.name, sha256=digest, bytes=size, images=images
    )
    return ExportSummary(out, size, files, rows, hashlib.sha256(report).hexdigest())


def exported_file(study: ReaderStudy, *, user) -> IO[bytes]:
    """The bundle of ``study`` as an open file (already unlinked: it goes when it is closed)."""
    fd, name = tempfile.mkstemp(suffix=".zip")
    os.close(fd)
    path = Path(name)
    try:
        export_bundle(study, path, user=user)
        return path.open("rb")
    except fmt.BundleError as exc:
        raise StudyError(exc.code, exc.message) from None
    finally:
        path.unlink(missing_ok=True)
