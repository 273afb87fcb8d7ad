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
    """Validate against the JSON Schema plus the cross-field rules; returns ``data``."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [f"field '{_field(e)}': {e.message}" for e in errors[:10]]
        more = f" (+{len(errors) - 10} more)" if len(errors) > 10 else ""
        raise ManifestError(f"{source} is invalid: " + "; ".join(lines) + more)
    problems = cross_field_problems(data)
    if problems:
        raise ManifestError(
            f"{source} is invalid: " + "; ".join(f"field '{f}': {m}" for f, m in problems)
        )
    return data


def _duplicates(items: list[str]) -> list[str]:
    return sorted({x for x in items if items.count(x) > 1})


Problems = list[tuple[str, str]]


def cross_field_problems(data: dict[str, Any]) -> Problems:
    """``(field, message)`` for every rule the JSON Schema cannot express."""
    return [
        *_label_and_head_problems(data),
        *_scoring_problems(data),
        *_output_problems(data),
    ]


def _label_and_head_problems(data: dict[str, Any]) -> Problems:
    """Unique names; every head's labels exist; every label in exactly one head."""
    problems: Problems = []
    names = [lbl["name"] for lbl in data["labels"]]
    if dup := _duplicates(names):
        problems.append(("labels", f"duplicate label names {dup}"))
    if dup := _duplicates([h["name"] for h in data["heads"]]):
        problems.append(("heads", f"duplicate head names {dup}"))
    owner: dict[str, list[str]] = {n: [] for n in names}
    for i, head in enumerate(data["heads"]):
        for lbl in head["labels"]:
            if lbl in owner:
                owner[lbl].append(head["name"])
            else:
                problems.append((f"heads.{i}.labels", f"{lbl!r} is not one of labels {names}"))
        if "positive" in head and head["positive"] not in head["labels"]:
            problems.append(
                (f"heads.{i}.positive", f"{head['positive']!r} is not one of {head['labels']}")
            )
    for lbl, heads in owner.items():
        if len(heads) != 1:
            where = f"in heads {heads}" if heads else "in no head"
            problems.append(
                ("heads", f"label {lbl!r} must belong to exactly one head, it is {where}")
            )
    return problems


def _scoring_problems(data: dict[str, Any]) -> Problems:
    """The headline label, cascades and per-label thresholds refer to scored labels."""
    problems: Problems = []
    scored = decision_labels(data)
    if data["positive_label"] not in scored:
        problems.append(
            (
                "positive_label",
                f"{data['positive_label']!r} is not a binary head's positive label or a "
                f"multi-label label ({scored})",
            )
        )
    for i, head in enumerate(data["heads"]):
        src = head.get("cascade_from")
        if src is not None and src not in scored:
            problems.append(
                (f"heads.{i}.cascade_from", f"{src!r} is not a scored label ({scored})")
            )
        elif src is not None and src in head["labels"]:
            problems.append((f"heads.{i}.cascade_from", f"{src!r} is a label of this head"))
    for op, spec in data["operating_points"].items():
        if "thresholds" not in spec or set(spec["thresholds"]) == set(scored):
            continue
        missing = sorted(set(scored) - set(spec["thresholds"]))
        extra = sorted(set(spec["thresholds"]) - set(scored))
        problems.append(
            (
                f"operating_points.{op}.thresholds",
                f"must name every binary and multi-label label {scored}"
                + (f"; missing {missing}" if missing else "")
                + (f"; not scored by a threshold {extra}" if extra else ""),
            )
        )
    if data["default_operating_point"] not in data["operating_points"]:
        problems.append(
            (
                "default_operating_point",
                f"{data['default_operating_point']!r} is not a key of operating_points",
            )
        )
    return problems


def _output_problems(data: dict[str, Any]) -> Problems:
    """Heatmaps have explainers, explainers name labels, slice outputs match slice heads,
    weights roles are unique."""
    problems: Problems = []
    names = [lbl["name"] for lbl in data["labels"]]
    for name in data["output"]["heatmaps"]:
        if name not in data["explainers"]:
            problems.append(("output.heatmaps", f"{name!r} has no entry in explainers"))
    for method, spec in data["explainers"].items():
        unknown = [lbl for lbl in spec.get("labels", "all") if lbl not in names]
        if spec.get("labels", "all") != "all" and unknown:
            problems.append((f"explainers.{method}.labels", f"{unknown} are not labels {names}"))
    slice_heads = [h["name"] for h in data["heads"] if h.get("slice_level", False)]
    if bool(data["output"].get("slice_probabilities", False)) != bool(slice_heads):
        problems.append(
            (
                "output.slice_probabilities",
                "must be true exactly when a head is slice_level (slice-level heads: "
                f"{slice_heads})",
            )
        )
    if dup := _duplicates([w["role"] for w in data["weights"]]):
        problems.append(("weights", f"duplicate roles {dup}"))
    return problems


def decision_labels(manifest: dict[str, Any]) -> list[str]:
    """Labels that get a probability and a threshold: binary heads' positive labels and
    every multi-label label, in head order."""
    out: list[str] = []
    for head in manifest["heads"]:
        if head["kind"] == "binary":
            out.append(head["positive"])
        elif head["kind"] == "multi_label":
            out.extend(head["labels"])
    return out


def label_thresholds(manifest: dict[str, Any], op: str) -> dict[str, float]:
    """``{label: threshold}`` of operating point ``op`` for every decision label."""
    spec = manifest["operating_points"][op]
    if "thresholds" in spec:
        return {k: float(v) for k, v in spec["thresholds"].items()}
    return {lbl: float(spec["threshold"]) for lbl in decision_labels(manifest)}


def display_names(manifest: dict[str, Any]) -> dict[str, str]:
    return {lbl["name"]: lbl["display"] for lbl in manifest["labels"]}


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
