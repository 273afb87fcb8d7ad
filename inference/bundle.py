"""A model plug-in backed by a bundle directory (``manifest.json`` + safetensors weights).

Constructing a :class:`BundleModel` reads and validates the manifest only (no torch), so
listing models is cheap; weights are verified (sha256) and loaded on ``load()`` or the first
``predict()``.
"""

from __future__ import annotations

import threading
from pathlib import Path

from .manifest import ManifestIdentity, load_manifest


class BundleModel(ManifestIdentity):
    def __init__(self, bundle_dir: str | Path):
        self.bundle_dir = Path(bundle_dir)
        self._manifest = load_manifest(self.bundle_dir)
        self._pipeline = None
        self._lock = threading.Lock()

    def load(self):
        """Verify the weights against the manifest and build the networks (once)."""
        with self._lock:
            if self._pipeline is None:
                from .pipeline import CVSTICHPipeline

                self._pipeline = CVSTICHPipeline.from_bundle(self.bundle_dir)
            return self._pipeline

    def predict(self, volume, geometry=None, meta=None, options=None):
        return self.load().predict(volume, geometry, meta, options)

    def __repr__(self) -> str:
        return f"BundleModel({self.id!r} {self.version}, {self.bundle_dir})"
