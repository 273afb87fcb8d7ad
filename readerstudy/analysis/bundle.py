"""The study bundle's format, its integrity check, and its report (no Django).

A bundle is a zip of JSON and CSV files with ``manifest.json`` naming the format, its version
and the sha256 and size of every other file (docs/bundle.md). The report it holds
(``report.json``) is produced by :func:`bundle_report` from the bundled analysis inputs alone,
and ``python -m readerstudy.analysis report --bundle FILE.zip`` runs the same function again,
so the two are identical byte for byte on the same software versions: keys are sorted, floats
written as Python's shortest round-trip ``repr``, and the report's creation time is the
bundle's.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO, Any

import pandas as pd

FORMAT = "readerstudy-study-bundle"
FORMAT_VERSION = 3
#: versions this platform reads (version 1: no truth panel record; its truth is imported;
#: version 2: no mask files)
READABLE_VERSIONS = (1, 2, 3)
MANIFEST = "manifest.json"
REPORT = "report.json"
OPTIONS = "analysis/options.json"
READS = "analysis/reads.csv"
SCORES = "analysis/scores.csv"
IMAGES = "images/"
#: every bundle of this version holds these files (besides the manifest)
REQUIRED = (
    "study.json",
    "cases.csv",
    "series.csv",
    "instances.csv",
    "truth.csv",
    "readers.csv",
    "assignments.csv",
    "revisions.csv",
    "exposures.csv",
    "consent.csv",
    "models.json",
    "outputs.csv",
    "software.json",
    OPTIONS,
    READS,
    REPORT,
)
#: files every bundle holds from a format version on (the cases' truth masks: version 3)
REQUIRED_SINCE = {3: ("truth_masks.csv",)}
_CHUNK = 1 << 20


class BundleError(ValueError):
    """A bundle that cannot be used; ``code`` names the problem, ``message`` explains it."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def sha256_of(handle: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def dumps(data: Any) -> bytes:
    """Deterministic JSON: sorted keys, repr floats, no NaN, one trailing newline."""
    return (json.dumps(data, sort_keys=True, indent=1, allow_nan=False) + "\n").encode()


def manifest(files: dict[str, tuple[str, int]], *, created_at: str, study: dict[str, Any]) -> bytes:
    """``files``: {path: (sha256, bytes)} of every file but the manifest."""
    return dumps(
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": created_at,
            "study": study,
            "files": {k: {"sha256": h, "bytes": n} for k, (h, n) in sorted(files.items())},
        }
    )


@dataclass(frozen=True)
class Bundle:
    """An opened bundle whose manifest and every file's hash have been checked."""

    path: Path
    manifest: dict[str, Any]

    @property
    def names(self) -> list[str]:
        return sorted(self.manifest["files"])

    @property
    def images(self) -> list[str]:
        return [n for n in self.names if n.startswith(IMAGES)]

    def read(self, name: str) -> bytes:
        with zipfile.ZipFile(self.path) as archive:
            return archive.read(name)

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        """A stream of one member."""
        with zipfile.ZipFile(self.path) as archive, archive.open(name) as handle:
            yield handle

    def json(self, name: str) -> Any:
        return json.loads(self.read(name))

    def has(self, name: str) -> bool:
        return name in self.manifest["files"]


def _read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    if MANIFEST not in archive.namelist():
        raise BundleError("missing_part", f"the bundle has no {MANIFEST}")
    try:
        data = json.loads(archive.read(MANIFEST))
    except ValueError as exc:
        raise BundleError("invalid_manifest", f"{MANIFEST} is not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BundleError("unknown_format", f"{MANIFEST} does not describe a {FORMAT}")
    if data.get("format_version") not in READABLE_VERSIONS:
        raise BundleError(
            "unknown_version",
            f"bundle format version {data.get('format_version')!r} is not supported; this "
            f"platform reads version(s) {', '.join(map(str, READABLE_VERSIONS))}",
        )
    if not isinstance(data.get("files"), dict):
        raise BundleError("invalid_manifest", f"{MANIFEST} lists no files")
    return data


def open_bundle(path: str | Path) -> Bundle:
    """Check the manifest, that every required part is there, that nothing unlisted is, and
    every file's sha256; raise :class:`BundleError` naming the first problem."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BundleError("not_a_bundle", f"{path.name} is not a readable zip: {exc}") from exc
    with archive:
        data = _read_manifest(archive)
        present = {n for n in archive.namelist() if not n.endswith("/")} - {MANIFEST}
        check_names(present)
        listed = set(data["files"])
        version = data["format_version"]
        since = [n for v, names in REQUIRED_SINCE.items() if version >= v for n in names]
        for name in [*REQUIRED, *since]:
            if name not in listed or name not in present:
                raise BundleError("missing_part", f"the bundle has no {name}")
        if listed - present:
            raise BundleError(
                "missing_part", f"listed in the manifest but absent: {sorted(listed - present)}"
            )
        if present - listed:
            raise BundleError(
                "unlisted_file", f"not listed in the manifest: {sorted(present - listed)}"
            )
        for name in sorted(listed):
            with archive.open(name) as handle:
                digest, size = sha256_of(handle)
            entry = data["files"][name]
            if digest != entry.get("sha256") or size != entry.get("bytes"):
                raise BundleError(
                    "hash_mismatch", f"{name}: its sha256 differs from the manifest's (altered?)"
                )
    return Bundle(path, data)


def _csv(data: bytes) -> pd.DataFrame:
    """Every column as text, as ``reads.read_csv`` reads a file (validation types them)."""
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=True, skipinitialspace=True)


def _options(raw: dict[str, Any]) -> Any:
    from .report import ReportOptions

    known = {f.name for f in fields(ReportOptions)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise BundleError("invalid_options", f"{OPTIONS}: unknown report option(s) {unknown}")
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    return ReportOptions(**values)


def bundle_report(options: bytes, reads: bytes, scores: bytes | None) -> bytes:
    """``report.json`` of a bundle from its ``analysis/`` files (the export and the CLI both
    call this). ``options`` holds ``report_options``, ``context``, ``skipped`` and
    ``created_at`` (which becomes the report's ``meta.created``)."""
    from .report import build_report

    spec = json.loads(options)
    report = build_report(
        _csv(reads),
        _csv(scores) if scores is not None else None,
        _options(spec["report_options"]),
        context=spec.get("context") or {},
        skipped=spec.get("skipped") or {},
    )
    data = report.to_dict()
    data["meta"]["created"] = spec["created_at"]
    return dumps(data)


def report_of(bundle: Bundle) -> bytes:
    scores = bundle.read(SCORES) if bundle.has(SCORES) else None
    return bundle_report(bundle.read(OPTIONS), bundle.read(READS), scores)


@dataclass(frozen=True)
class Rerun:
    path: Path
    identical: bool
    differing_software: list[str]


def _software_differences(bundle: Bundle) -> list[str]:
    from .report import software_versions

    bundled = json.loads(bundle.read(REPORT)).get("meta", {}).get("software", {})
    backend = json.loads(bundle.read(OPTIONS))["report_options"].get("backend", "statsmodels")
    here = software_versions(backend)
    return sorted(k for k in set(bundled) | set(here) if bundled.get(k) != here.get(k))


def rerun(path: str | Path, out_dir: str | Path) -> Rerun:
    """Re-run a bundle's analysis into ``out_dir/report.json`` and compare it with the
    bundled one; a difference is explained by ``differing_software`` when that is not empty."""
    bundle = open_bundle(path)
    data = report_of(bundle)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / REPORT
    target.write_bytes(data)
    identical = data == bundle.read(REPORT)
    return Rerun(target, identical, [] if identical else _software_differences(bundle))


def check_names(names: Iterable[str]) -> None:
    """Refuse member names that could leave the bundle's folder when extracted."""
    for name in names:
        if name.startswith("/") or ".." in Path(name).parts or "\\" in name:
            raise BundleError("unsafe_name", f"unsafe file name in the bundle: {name!r}")
