"""Reproducible randomization from a recorded seed, independent of library versions.

Orders are defined by sorting items on SHA-256(seed, item key): fully specified, portable,
and stable when items are added (existing items keep their relative order). Seeds for a reader
or a session are derived from the study's root seed the same way and stored with the rows.
"""

import hashlib

_SEED_BITS = 62


def derive_seed(root_seed: int, *labels) -> int:
    """A child seed for (root, labels...), e.g. derive_seed(study_seed, "reader", 7, "session", 1)."""
    text = ":".join([str(int(root_seed)), *map(str, labels)])
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - _SEED_BITS)


def _rank(seed: int, key) -> bytes:
    return hashlib.sha256(f"{int(seed)}|{key}".encode()).digest()


def seeded_order(seed: int, keys: list) -> list:
    """Return ``keys`` in the random order that ``seed`` defines."""
    if len(set(map(str, keys))) != len(keys):
        raise ValueError("keys must be unique")
    return sorted(keys, key=lambda key: _rank(seed, key))


def balanced_split(seed: int, keys: list, labels: tuple[str, ...] = ("A", "B")) -> dict:
    """Assign keys to groups of (near-)equal size in a seeded random way."""
    ordered = seeded_order(seed, keys)
    return {key: labels[i % len(labels)] for i, key in enumerate(ordered)}
