"""Bundles for tests: one exported from a closed study, and helpers that rewrite it."""

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from readerstudy.analysis.bundle import MANIFEST
from readerstudy.exports.bundle_export import export_bundle
from tests.exports.bundle_study import build_closed_study

FAST = {"n_bootstrap": 200}


_BUILT: dict[str, Path] = {}


@pytest.fixture
def bundle_zip(db, tmp_path_factory) -> Path:
    """A bundle of a closed study, built once per session (each test's database rolls back;
    the file stays)."""
    if "path" not in _BUILT:
        path = tmp_path_factory.mktemp("bundle") / "study.zip"
        export_bundle(build_closed_study(), path, report_options=FAST)
        _BUILT["path"] = path
    return _BUILT["path"]


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def rewrite(path: Path, out: Path, files: dict[str, bytes], *, rehash: bool = False) -> Path:
    """Write ``files`` as a zip; ``rehash``: with a manifest matching them (a consistent bundle
    whose content was changed)."""
    files = dict(files)
    if rehash:
        manifest = json.loads(files[MANIFEST])
        manifest["files"] = {
            n: {"sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)}
            for n, d in files.items()
            if n != MANIFEST
        }
        files[MANIFEST] = json.dumps(manifest).encode()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out
