"""Models shipped inside this package (registered without an installed entry point)."""

from __future__ import annotations

from pathlib import Path

from .bundle import BundleModel

MODELS_DIR = Path(__file__).with_name("models")
DEMO_DIR = MODELS_DIR / "cvst_ich_demo"


def cvst_ich_demo() -> BundleModel:
    """Seed-000 demo model (small variant, trained on synthetic phantoms only)."""
    return BundleModel(DEMO_DIR)
