"""Deterministic random streams.

Every random choice in the generator comes from a stream named by purpose
("anatomy", "lesion", "noise", ...) and derived from the case seed with a stable
hash (not Python's salted ``hash``), so the same seed gives the same bytes in
every process, and changing one part of the generator does not reshuffle the
others.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _key_int(key: object) -> int:
    digest = hashlib.sha256(str(key).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little")


def rng_for(seed: int, *keys: object) -> np.random.Generator:
    """A numpy Generator for ``seed`` and a purpose path such as ("lesion", "sich")."""
    if seed < 0:
        raise ValueError("seed must be >= 0")
    spawn_key = tuple(_key_int(k) for k in keys)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=spawn_key)))


def derived_seed(seed: int, *keys: object) -> int:
    """A child seed (31-bit, readable in logs) for sub-cases of a data set."""
    ss = np.random.SeedSequence(seed, spawn_key=tuple(_key_int(k) for k in keys))
    return int(ss.generate_state(1, dtype=np.uint32)[0] >> 1)
