"""The committed viewer bundle matches its manifest and the npm lockfile.

Run: .venv/bin/python -m pytest -p no:django tests/frontend -q
Rebuild after changing frontend/: cd frontend && npm ci && node build.mjs
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
STATIC = ROOT / "readerstudy" / "reading" / "static" / "reading" / "viewer"
CORE = ("@cornerstonejs/core", "@cornerstonejs/tools", "@cornerstonejs/dicom-image-loader")


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def manifest() -> dict:
    return _json(STATIC / "manifest.json")


@pytest.fixture(scope="module")
def lock() -> dict:
    return _json(FRONTEND / "package-lock.json")


def _files_on_disk(base: Path) -> set[str]:
    return {p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file()} - {
        "manifest.json"
    }


def test_every_listed_file_matches(manifest):
    assert manifest["files"], "manifest lists no files"
    for name, meta in manifest["files"].items():
        path = STATIC / name
        assert path.is_file(), f"{name} listed in manifest.json but missing"
        data = path.read_bytes()
        assert len(data) == meta["size"], f"{name}: size {len(data)} != manifest {meta['size']}"
        assert hashlib.sha256(data).hexdigest() == meta["sha256"], (
            f"{name}: sha256 differs from manifest"
        )


def test_every_file_is_listed(manifest):
    unlisted = _files_on_disk(STATIC) - set(manifest["files"])
    assert not unlisted, f"files in the static dir missing from manifest.json: {sorted(unlisted)}"


def test_expected_outputs_present(manifest):
    for name in ("viewer.js", "viewer.css", "decodeImageFrameWorker.js", "LICENSES.txt"):
        assert name in manifest["files"]
    assert any(n.startswith("wasm/") for n in manifest["files"])


def test_manifest_versions_match_lockfile(manifest, lock):
    pkgs = lock["packages"]
    for name, version in manifest["packages"].items():
        entry = pkgs.get(f"node_modules/{name}")
        assert entry is not None, f"{name} not in package-lock.json"
        assert entry["version"] == version, (
            f"{name}: manifest {version} != lockfile {entry['version']}"
        )


def test_cornerstone_pinned_exactly_and_equal(manifest, lock):
    pj = _json(FRONTEND / "package.json")
    deps = {**pj.get("dependencies", {}), **pj.get("devDependencies", {})}
    for name, spec in deps.items():
        assert spec[0].isdigit(), f"{name} is not pinned exactly in package.json: {spec!r}"
    versions = {deps[n] for n in CORE}
    assert len(versions) == 1, f"cornerstone packages differ: {versions}"
    (version,) = versions
    assert version.startswith("5."), version
    for n in CORE:
        assert manifest["packages"][n] == version
        assert lock["packages"][f"node_modules/{n}"]["version"] == version
    root = lock["packages"][""]
    assert root.get("dependencies", {}) == pj.get("dependencies", {})
    assert root.get("devDependencies", {}) == pj.get("devDependencies", {})


@pytest.mark.slow
def test_build_reproduces_committed_files(tmp_path, manifest):
    """`node build.mjs` (with the installed node_modules) gives the committed bytes."""
    node = shutil.which("node")
    if node is None or not (FRONTEND / "node_modules" / "esbuild").is_dir():
        pytest.fail(
            "needs node and frontend/node_modules: `make test` installs them (cd frontend && npm ci)"
        )
    out = tmp_path / "viewer"
    subprocess.run(
        [node, "build.mjs", str(out)], cwd=FRONTEND, check=True, capture_output=True, timeout=300
    )
    rebuilt = _json(out / "manifest.json")
    assert rebuilt["packages"] == manifest["packages"]
    assert rebuilt["files"] == manifest["files"]
