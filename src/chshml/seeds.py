"""Reproducible random streams: one independent generator per (global seed, dataset, shard).

Seeds come from ``numpy.random.SeedSequence`` keyed by the dataset name and shard index, so a
shard's data does not depend on which shards ran before it, where, or in which order.
"""

from __future__ import annotations

import zlib

import numpy as np


def dataset_key(dataset: str) -> int:
    """A stable 32-bit integer for a dataset name (CRC-32, identical across platforms)."""
    return zlib.crc32(dataset.encode("utf-8"))


def shard_seed_sequence(seed: int, dataset: str = "", shard: int = 0) -> np.random.SeedSequence:
    """The seed sequence of one shard of one dataset."""
    if seed < 0 or shard < 0:
        raise ValueError("seed and shard must be non-negative")
    return np.random.SeedSequence([int(seed), dataset_key(dataset), int(shard)])


def shard_rng(seed: int, dataset: str = "", shard: int = 0) -> np.random.Generator:
    """The generator of one shard of one dataset (PCG64)."""
    return np.random.default_rng(shard_seed_sequence(seed, dataset, shard))
