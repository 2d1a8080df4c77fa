"""Merging shards into one dataset file, with a reproducible train/val/test split.

A merged dataset (``results/data/{dataset}.h5``) holds

* every per-point dataset of the shards (``points``, ``lam``, ``label``, ``status``, ...),
  concatenated in the order the shards are given;
* ``shard`` (int32): the index of the shard each point came from;
* ``idx_train``, ``idx_val``, ``idx_test`` (int64, sorted): the split, drawn from a generator
  seeded by (global seed, dataset) only, so it is the same whichever order the shards ran in;
* provenance attributes: the merge arguments (seed, split, dataset), every attribute the shards
  agree on (level, solver, space, ...), per-shard values of those they do not agree on
  (``shards.<name>``), summed CPU seconds, CPU seconds per point and package versions.

Attributes that measure the run rather than the data (CPU seconds, versions, ``merged_at``,
``host``) vary between runs; everything else is a deterministic function of seed and config.
Stacking the shards is :func:`chshml.shards.concatenate`; this module adds the split.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from chshml.errors import InputError
from chshml.seeds import dataset_key, shard_rng
from chshml.shards import SAMPLE_PREFIX, combine_attrs, concatenate, total_cpu
from chshml.store import DatasetFile, label_counts, package_versions, write_h5

#: Names of the split index datasets, in the order of the ``--split`` fractions.
SPLIT_NAMES = DatasetFile.SPLIT_NAMES
DEFAULT_SPLIT = (0.7, 0.15, 0.15)


def parse_split(text: str | Sequence[float]) -> tuple[float, float, float]:
    """Fractions ``train,val,test`` from ``"0.7,0.15,0.15"``; they must be >= 0 and sum to 1."""
    try:
        parts = [float(x) for x in (text.split(",") if isinstance(text, str) else text)]
    except ValueError:
        raise InputError(f"--split: not three numbers: {text!r}") from None
    if len(parts) != 3 or any(p < 0 for p in parts) or abs(sum(parts) - 1.0) > 1e-9:
        raise InputError(f"--split: need three fractions >= 0 that sum to 1 "
                         f"(train,val,test), got {text!r}")
    return parts[0], parts[1], parts[2]


def split_indices(n: int, fractions: Sequence[float], seed: int,
                  dataset: str = "", group: int = 1) -> dict[str, np.ndarray]:
    """Sorted index arrays ``train/val/test`` of a seeded random permutation of ``range(n)``.

    The stream is ``shard_rng(seed, dataset + "#split")``: independent of the shard streams
    and of the order in which shards were produced. With ``group = g > 1`` consecutive
    blocks of ``g`` points (the two points ``(1 -+ eps) p_b`` of a boundary pair, ``g = 2``)
    are permuted as units, so a block never straddles two splits.
    """
    fractions = parse_split(list(fractions))
    if group > 1:
        if n % group:
            raise InputError(f"--split-group {group}: {n} points are not whole groups")
        blocks = shard_rng(seed, f"{dataset}#split", 0).permutation(n // group)
        perm = (blocks[:, None] * group + np.arange(group)).ravel()
        n_train = group * int(round(fractions[0] * n / group))
        n_val = min(group * int(round(fractions[1] * n / group)), n - n_train)
        cuts = (0, n_train, n_train + n_val, n)
        return {name: np.sort(perm[cuts[i]:cuts[i + 1]]).astype(np.int64)
                for i, name in enumerate(SPLIT_NAMES)}
    perm = shard_rng(seed, f"{dataset}#split", 0).permutation(n)
    n_train = int(round(fractions[0] * n))
    n_val = min(int(round(fractions[1] * n)), n - n_train)
    cuts = (0, n_train, n_train + n_val, n)
    return {name: np.sort(perm[cuts[i]:cuts[i + 1]]).astype(np.int64)
            for i, name in enumerate(SPLIT_NAMES)}


def add_split(data: dict[str, np.ndarray], sizes: Sequence[int], fractions: Sequence[float],
              seed: int, dataset: str = "", group: int = 1) -> dict[str, np.ndarray]:
    """``data`` with the ``shard`` index of each point and the ``idx_*`` split datasets."""
    out = dict(data)
    out[DatasetFile.SHARD] = np.concatenate(
        [np.full(n, k, dtype=np.int32) for k, n in enumerate(sizes)])
    n_total = len(out["points"])
    for name, idx in split_indices(n_total, fractions, seed, dataset, group).items():
        out[DatasetFile.IDX[name]] = idx
    return out


def merge_shards(shard_paths: Sequence[str | os.PathLike], out_path: str | os.PathLike, *,
                 split: Sequence[float] = DEFAULT_SPLIT, seed: int = 0, dataset: str = "",
                 sample_paths: Sequence[str | os.PathLike] | None = None,
                 extra_attrs: Mapping[str, Any] | None = None,
                 split_group: int = 1) -> dict[str, Any]:
    """Concatenate shards into ``out_path`` (atomically) with split indices and provenance.

    ``shard_paths`` are label outputs (or sample outputs when a dataset needs no labelling);
    ``sample_paths``, if given, are the matching sample outputs: their per-point datasets that
    the label shards lack (e.g. slice coordinates) and their attributes (prefixed ``sample.``)
    are merged too, after checking that both hold the same points. Returns a short summary.
    """
    paths = [Path(p) for p in shard_paths]
    if not paths:
        raise InputError("merge: no shards given")
    fractions = parse_split(list(split))
    try:
        stack = concatenate(paths, samples=sample_paths or None, what="shard")
    except InputError as err:
        raise InputError(f"merge: {err}") from None
    merged = add_split(stack.data, stack.sizes, fractions, seed, dataset, split_group)
    n_total = len(merged["points"])
    with_samples = sample_paths is not None and len(sample_paths) > 0
    attrs: dict[str, Any] = combine_attrs(stack.attrs)
    if with_samples:
        attrs.update({SAMPLE_PREFIX + k: v for k, v in combine_attrs(stack.sample_attrs).items()})
    cpu_label = total_cpu(stack.attrs)
    cpu_sample = total_cpu(stack.sample_attrs)
    cpu_total = cpu_label + cpu_sample
    attrs.update({
        "dataset": dataset,
        "seed": int(seed),
        "seed_scheme": "numpy SeedSequence([seed, crc32(dataset), shard]); "
                       "split: SeedSequence([seed, crc32(dataset + '#split'), 0])",
        "dataset_key": int(dataset_key(dataset)),
        "n_points": int(n_total),
        "n_shards": len(paths),
        "shard_sizes": np.array(stack.sizes, dtype=np.int64),
        "shard_files": json.dumps([p.name for p in paths]),
        "split": np.asarray(fractions, dtype=float),
        "split_group": int(split_group),
        "split_names": json.dumps(SPLIT_NAMES),
        "cpu_seconds": cpu_total,
        "cpu_seconds_label": cpu_label if with_samples else cpu_total,
        "cpu_seconds_sample": cpu_sample,
        "cpu_seconds_per_point": cpu_total / n_total if n_total else float("nan"),
        "merged_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": platform.node(),
    })
    if "label" in merged:
        attrs.update(label_counts(merged["label"]))
    attrs.update({f"{DatasetFile.VERSIONS_PREFIX}{k}": v for k, v in package_versions().items()})
    for key, value in (extra_attrs or {}).items():
        attrs[key] = value
    write_h5(out_path, merged, attrs, inputs=[*paths, *(sample_paths or [])])
    return {"dataset": dataset, "n_points": n_total, "n_shards": len(paths),
            "cpu_seconds": cpu_total, **{f"n_{k}": len(merged[f"idx_{k}"]) for k in SPLIT_NAMES}}
