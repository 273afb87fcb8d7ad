"""The etiology (CVST-ICH vs sICH) data sets stay byte-identical as the package grows.

The digests were computed from the generator before the subtype and tilt extensions; tests
elsewhere and the stored demo depend on these bytes. A digest that changes means an old
data set can no longer be regenerated: bump ``GENERATOR_VERSION`` and say so instead.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from phantoms import GENERATOR_VERSION, generate_dataset


def tree_digest(root: Path) -> str:
    """SHA-256 over every file's relative path and SHA-256, in path order."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            digest = hashlib.sha256(p.read_bytes()).hexdigest()
            h.update(f"{p.relative_to(root).as_posix()}\t{digest}\n".encode())
    return h.hexdigest()


@pytest.mark.parametrize(
    ("n", "seed", "kwargs", "expected"),
    [
        (3, 11, {"matrix": 48}, "b5e1363ee4fe58ba11cd8bbf7165caa669e193290f9a790f6a496daf9a374296"),
        (
            2,
            5,
            {"matrix": 40, "thin": True},
            "4d61ffe810e1cc39c00c1efdff215216f7d5728a5dc8852ad570c453f6e0e405",
        ),
    ],
)
def test_default_data_sets_are_unchanged(n, seed, kwargs, expected, tmp_path):
    assert GENERATOR_VERSION == "1.0.0"
    generate_dataset(tmp_path, n, seed, **kwargs)
    assert tree_digest(tmp_path) == expected
