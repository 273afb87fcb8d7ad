"""A model plug-in backed by a bundle directory (``manifest.json`` + safetensors weights).

Constructing a :class:`BundleModel` reads and validates the manifest only (no torch), so
listing models is cheap; weights are verified (sha256) and loaded on ``load()`` or the first
``predict()``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .manifest import ManifestIdentity, load_manifest

if TYPE_CHECKING:
    from .pipeline import CVSTICHPipeline
    from .results import Prediction


class BundleModel(ManifestIdentity):
    def __init__(self, bundle_dir: str | Path):
        self.bundle_dir = Path(bundle_dir)
        self._manifest = load_manifest(self.bundle_dir)
        self._pipeline: CVSTICHPipeline | None = None
        self._lock = threading.Lock()

    def load(self) -> CVSTICHPipeline:
        """Verify the weights against the manifest and build the networks (once)."""
        with self._lock:
            if self._pipeline is None:
                from .pipeline import CVSTICHPipeline

                self._pipeline = CVSTICHPipeline.from_bundle(self.bundle_dir)
            return self._pipeline

    def predict(
        self,
        volume: Any,
        geometry: Any = None,
        meta: dict[str, Any] | None = None,
        options: Any = None,
    ) -> Prediction:
        return self.load().predict(volume, geometry, meta, options)

    def __repr__(self) -> str:
        return f"BundleModel({self.id!r} {self.version}, {self.bundle_dir})"
