"""Model manifests: static JSON validated against ``manifest.schema.json`` (never evaluated),
plus checks of the weight files it lists. No torch here: the web tier can list models.

Errors are :class:`ModelLoadError` subclasses whose messages name the offending field or
file, so an operator can fix a bundle without reading code.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

SCHEMA_PATH = Path(__file__).with_name("manifest.schema.json")
MANIFEST_NAME = "manifest.json"


class ModelLoadError(Exception):
    """A model bundle could not be loaded."""


class ManifestError(ModelLoadError):
    """The manifest is unreadable or does not satisfy the schema."""


class WeightsMissingError(ModelLoadError):
    """A weights file listed in the manifest is absent."""


class WeightsChecksumError(ModelLoadError):
    """A weights file does not match the sha256 (or size) in the manifest."""


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return data


def _field(error: ValidationError) -> str:
    """Dotted path of the offending field; for missing or unexpected keys, the key itself."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        m = re.match(r"'([^']+)' is a required property", error.message)
        if m:
            path.append(m.group(1))
    elif error.validator == "additionalProperties":
        extra = re.findall(r"'([^']+)'", error.message.split("(", 1)[-1])
        if extra:
            path.append(",".join(extra))
    return ".".join(path) or "(top level)"


def validate_manifest(data: dict[str, Any], source: str = "manifest") -> dict[str, Any]:
    """Validate against the JSON Schema plus cross-field rules; returns ``data``."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [f"field '{_field(e)}': {e.message}" for e in errors[:10]]
        more = f" (+{len(errors) - 10} more)" if len(errors) > 10 else ""
        raise ManifestError(f"{source} is invalid: " + "; ".join(lines) + more)
    if data["positive_label"] not in data["labels"]:
        raise ManifestError(
            f"{source} is invalid: field 'positive_label': {data['positive_label']!r} "
            f"is not one of labels {data['labels']}"
        )
    if data["default_operating_point"] not in data["operating_points"]:
        raise ManifestError(
            f"{source} is invalid: field 'default_operating_point': "
            f"{data['default_operating_point']!r} is not a key of operating_points"
        )
    for name in data["output"]["heatmaps"]:
        if name not in data["explainers"]:
            raise ManifestError(
                f"{source} is invalid: field 'output.heatmaps': {name!r} has no entry in explainers"
            )
    roles = [w["role"] for w in data["weights"]]
    if len(set(roles)) != len(roles):
        raise ManifestError(f"{source} is invalid: field 'weights': duplicate roles {roles}")
    return data


def load_manifest(path: str | Path) -> dict[str, Any]:
    """Read and validate ``manifest.json`` (``path`` = the file or its bundle directory)."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_NAME
    if not path.is_file():
        raise ManifestError(f"manifest not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path} is not readable JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ManifestError(f"{path} is invalid: the top level must be an object")
    return validate_manifest(data, source=str(path))


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_weights(bundle_dir: str | Path, manifest: dict[str, Any]) -> dict[str, Path]:
    """Check every listed weights file exists and matches its size and sha256.

    Returns ``{role: path}``. Raises before any byte of the file is deserialised."""
    bundle_dir = Path(bundle_dir)
    out: dict[str, Path] = {}
    for entry in manifest["weights"]:
        path = bundle_dir / entry["file"]
        if not path.is_file():
            raise WeightsMissingError(
                f"weights file for role '{entry['role']}' is missing: {path} "
                f"(listed in {bundle_dir / MANIFEST_NAME})"
            )
        size = path.stat().st_size
        digest = sha256_file(path)
        if digest != entry["sha256"] or size != entry["bytes"]:
            raise WeightsChecksumError(
                f"weights file {path} does not match the manifest: sha256 {digest} "
                f"({size} bytes), expected {entry['sha256']} ({entry['bytes']} bytes); "
                "the file is corrupted or was replaced"
            )
        out[entry["role"]] = path
    return out


class ManifestIdentity:
    """``id``, ``version`` and a copy of the manifest, for a model object holding ``_manifest``."""

    _manifest: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self._manifest["id"])

    @property
    def version(self) -> str:
        return str(self._manifest["version"])

    def manifest(self) -> dict[str, Any]:
        return copy.deepcopy(self._manifest)
