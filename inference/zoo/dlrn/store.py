# mypy: disable-error-code="import-untyped"
"""Saving and loading the fitted DLRN without pickle.

* forests: skops files (zip of JSON + numpy arrays), loaded with an explicit list of
  trusted types: a file naming any other type is refused before it is loaded;
* the CNN extractor and the PCA: safetensors;
* selections, covariate screen, logistic regression and nomogram: ``model.json``
  (``format_version`` :data:`FORMAT_VERSION`); every other file's sha256 is recorded in it
  and checked on load.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ...manifest import ModelLoadError, sha256_file

FORMAT_VERSION = 1
SIGNATURES = ("rad", "dl", "dlr")
#: the only types a forest file may name beyond skops' defaults (numpy, builtins, sklearn
#: estimators it knows)
TRUSTED = ["sklearn.tree._tree.Tree"]


def forest_file(signature: str) -> str:
    return f"{signature}_forest.skops"


def save_forest(est: Any, path: Path) -> None:
    import skops.io as sio

    sio.dump(est, str(path), compression=zipfile.ZIP_DEFLATED)


def load_forest(path: Path) -> Any:
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=str(path))
    unknown = sorted(set(untrusted) - set(TRUSTED))
    if unknown:
        raise ModelLoadError(f"{path.name}: refusing untrusted types {unknown}")
    return sio.load(str(path), trusted=TRUSTED)


def save_pca(components: np.ndarray, mean: np.ndarray, path: Path) -> None:
    from safetensors.numpy import save_file

    save_file(
        {
            "components": np.ascontiguousarray(components, dtype=np.float32),
            "mean": np.ascontiguousarray(mean, dtype=np.float32),
        },
        str(path),
    )


def load_pca(path: Path) -> tuple[np.ndarray, np.ndarray]:
    from safetensors.numpy import load_file

    d = load_file(str(path))
    return d["components"].astype(np.float64), d["mean"].astype(np.float64)


def write_model_json(bundle: Path, data: dict[str, Any], files: list[str]) -> Path:
    """``model.json`` with the sha256 of each of ``files`` (relative to ``bundle``)."""
    doc = {
        "format_version": FORMAT_VERSION,
        **data,
        "files": {f: sha256_file(bundle / f) for f in files},
    }
    path = bundle / "model.json"
    path.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    return path


def read_model_json(bundle: Path) -> dict[str, Any]:
    path = bundle / "model.json"
    try:
        doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"cannot read {path}: {exc}") from exc
    if doc.get("format_version") != FORMAT_VERSION:
        raise ModelLoadError(
            f"{path}: format_version {doc.get('format_version')!r}, expected {FORMAT_VERSION}"
        )
    for name, digest in doc.get("files", {}).items():
        if not (bundle / name).is_file():
            raise ModelLoadError(f"{bundle / name} is missing")
        if sha256_file(bundle / name) != digest:
            raise ModelLoadError(f"{bundle / name}: sha256 differs from model.json")
    return doc
