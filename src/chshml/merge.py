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

Attributes that measure the run rather than the data (CPU seconds, versions) are listed by
:func:`is_volatile_attr`; everything else is a deterministic function of seed and config.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from chshml.errors import InputError
from chshml.seeds import dataset_key, shard_rng
from chshml.store import read_h5, write_h5

#: Names of the split index datasets, in the order of the ``--split`` fractions.
SPLIT_NAMES = ("train", "val", "test")
DEFAULT_SPLIT = (0.7, 0.15, 0.15)
#: Prefix of attributes copied from the sample shards when label shards are merged.
SAMPLE_PREFIX = "sample."
#: Prefix of per-shard attribute arrays (attributes the shards do not agree on).
SHARD_PREFIX = "shards."
_VERSIONED = ("chshml", "numpy", "h5py", "cvxpy", "clarabel", "scs", "mosek", "snakemake")


def shard_sizes(n: int, shards: int) -> list[int]:
    """Points per shard: ``n`` cut into ``shards`` near-equal parts, larger parts first."""
    if n < 0 or shards < 1:
        raise InputError(f"cannot cut {n} points into {shards} shards")
    base, extra = divmod(n, shards)
    return [base + (1 if k < extra else 0) for k in range(shards)]


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


def is_volatile_attr(name: str) -> bool:
    """True for attributes that describe the run (timings, versions, host), not the data."""
    return ("cpu_seconds" in name or "wall_seconds" in name or name.startswith("versions.")
            or name.endswith("chshml_version") or name in ("merged_at", "host"))


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape the data (without importing them)."""
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def _n_points(data: Mapping[str, np.ndarray], path: Path) -> int:
    if "points" not in data:
        raise InputError(f"{path}: no dataset 'points' (found: {sorted(data)})")
    return int(np.asarray(data["points"]).shape[0])


def _same(a: Any, b: Any) -> bool:
    """Equal values and shapes (NaN equals NaN in float arrays)."""
    a_arr, b_arr = np.asarray(a), np.asarray(b)
    try:
        nan_ok = a_arr.dtype.kind in "fc" and b_arr.dtype.kind in "fc"
        return bool(np.array_equal(a_arr, b_arr, equal_nan=nan_ok))
    except (TypeError, ValueError):
        return a == b


def _attr_value(value: Any) -> Any:
    """An HDF5-storable form of an attribute value (bytes -> str, lists -> arrays)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.dtype.kind in ("O", "U", "S"):
        return json.dumps([_attr_value(v) for v in value.tolist()])
    return value


def _combine_attrs(per_shard: list[dict[str, Any]]) -> dict[str, Any]:
    """Attributes all shards agree on as they are; the others as ``shards.<name>``.

    Per-shard numbers become a float array, anything else a JSON list (HDF5 attributes hold
    no arrays of strings through :func:`chshml.store.write_h5`).
    """
    keys: list[str] = []
    for attrs in per_shard:
        keys.extend(k for k in attrs if k not in keys)
    out: dict[str, Any] = {}
    for key in keys:
        values = [_attr_value(a.get(key)) for a in per_shard]
        if all(v is not None for v in values) and all(_same(v, values[0]) for v in values[1:]):
            out[key] = values[0]
            continue
        if all(v is not None and np.ndim(v) == 0 for v in values):
            kinds = {np.asarray(v).dtype.kind for v in values}
            if kinds <= {"i", "u", "f", "b"}:
                out[SHARD_PREFIX + key] = np.asarray(values, dtype=float)
                continue
        out[SHARD_PREFIX + key] = json.dumps(
            [v.tolist() if isinstance(v, np.ndarray) else v for v in values], default=str)
    return out


def _cpu(per_shard: list[dict[str, Any]]) -> float:
    return float(sum(float(a.get("cpu_seconds", 0.0) or 0.0) for a in per_shard))


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
    samples = [Path(p) for p in sample_paths] if sample_paths else None
    if samples is not None and len(samples) != len(paths):
        raise InputError(f"merge: {len(paths)} shards but {len(samples)} sample files")
    fractions = parse_split(list(split))

    columns: dict[str, list[np.ndarray]] = {}
    shard_ids: list[np.ndarray] = []
    label_attrs: list[dict[str, Any]] = []
    sample_attrs: list[dict[str, Any]] = []
    names: list[str] | None = None
    for k, path in enumerate(paths):
        if not path.is_file():
            raise InputError(f"merge: shard not found: {path}")
        data, attrs = read_h5(path)
        n = _n_points(data, path)
        if samples is not None:
            sdata, sattrs = read_h5(samples[k])
            if _n_points(sdata, samples[k]) != n or not np.array_equal(
                    np.asarray(sdata["points"]), np.asarray(data["points"])):
                raise InputError(f"merge: {path} and {samples[k]} do not hold the same points")
            for key, value in sdata.items():
                if key not in data and np.ndim(value) >= 1 and len(value) == n:
                    data[key] = value
            sample_attrs.append(sattrs)
        per_point = sorted(key for key, v in data.items() if np.ndim(v) >= 1 and len(v) == n)
        if names is None:
            names = per_point
        elif per_point != names:
            raise InputError(f"merge: {path} has datasets {per_point}, shard 0 has {names}")
        for key in per_point:
            columns.setdefault(key, []).append(np.asarray(data[key]))
        shard_ids.append(np.full(n, k, dtype=np.int32))
        label_attrs.append(attrs)

    assert names is not None
    merged: dict[str, np.ndarray] = {}
    for key in names:
        try:
            merged[key] = np.concatenate(columns[key])
        except ValueError as err:
            raise InputError(f"merge: dataset {key!r} differs in shape across shards: "
                             f"{err}") from None
    merged["shard"] = np.concatenate(shard_ids)
    n_total = len(merged["points"])
    for name, idx in split_indices(n_total, fractions, seed, dataset, split_group).items():
        merged[f"idx_{name}"] = idx

    attrs: dict[str, Any] = _combine_attrs(label_attrs)
    if samples is not None:
        attrs.update({SAMPLE_PREFIX + k: v for k, v in _combine_attrs(sample_attrs).items()})
    cpu_label = _cpu(label_attrs)
    cpu_sample = _cpu(sample_attrs)
    cpu_total = cpu_label + cpu_sample
    attrs.update({
        "dataset": dataset,
        "seed": int(seed),
        "seed_scheme": "numpy SeedSequence([seed, crc32(dataset), shard]); "
                       "split: SeedSequence([seed, crc32(dataset + '#split'), 0])",
        "dataset_key": int(dataset_key(dataset)),
        "n_points": int(n_total),
        "n_shards": len(paths),
        "shard_sizes": np.array([len(s) for s in shard_ids], dtype=np.int64),
        "shard_files": json.dumps([p.name for p in paths]),
        "split": np.asarray(fractions, dtype=float),
        "split_group": int(split_group),
        "split_names": json.dumps(SPLIT_NAMES),
        "cpu_seconds": cpu_total,
        "cpu_seconds_label": cpu_label if samples is not None else cpu_total,
        "cpu_seconds_sample": cpu_sample,
        "cpu_seconds_per_point": cpu_total / n_total if n_total else float("nan"),
        "merged_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": platform.node(),
    })
    if "label" in merged:
        lab = np.asarray(merged["label"])
        attrs["n_quantum"] = int(np.sum(lab == 1))
        attrs["n_not_quantum"] = int(np.sum(lab == 0))
        attrs["n_undecided"] = int(np.sum(lab == -1))
    attrs.update({f"versions.{k}": v for k, v in package_versions().items()})
    for key, value in (extra_attrs or {}).items():
        attrs[key] = value
    write_h5(out_path, merged, attrs, inputs=[*paths, *(sample_paths or [])])
    return {"dataset": dataset, "n_points": n_total, "n_shards": len(paths),
            "cpu_seconds": cpu_total, **{f"n_{k}": len(merged[f"idx_{k}"]) for k in SPLIT_NAMES}}


def data_fingerprint(path: str | os.PathLike) -> dict[str, Any]:
    """Datasets and non-volatile attributes of a merged file: equal for equal seed and config."""
    data, attrs = read_h5(path)
    keep = {k: _attr_value(v) for k, v in attrs.items()
            if not is_volatile_attr(k) and k not in ("shard_files",)}
    return {"data": data, "attrs": keep}


def same_data(a: str | os.PathLike, b: str | os.PathLike) -> list[str]:
    """Names of datasets/attributes that differ between two merged files (empty: identical)."""
    fa, fb = data_fingerprint(a), data_fingerprint(b)
    diffs = []
    for part in ("data", "attrs"):
        for key in sorted(set(fa[part]) | set(fb[part])):
            if key not in fa[part] or key not in fb[part]:
                diffs.append(f"{part}:{key} (missing)")
            elif not _same(fa[part][key], fb[part][key]):
                diffs.append(f"{part}:{key}")
    return diffs
