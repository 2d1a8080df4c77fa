"""Cutting result files into shards and putting them back together.

One implementation serves every stage that cuts or stacks behaviours: the workflow's dataset
shards (:func:`shard_sizes`), ``chshml merge`` (:func:`concatenate` plus a split),
``chshml concat`` of see-saw rounds (:func:`concatenate` plus :func:`first_with_sums`),
sharded ``chshml label`` (:func:`concatenate` plus :func:`combine_attrs`) and
``chshml select`` (:func:`select_rows`). Rows are behaviours; a shard's rows keep their
order, and shards are stacked in the order given.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from chshml.errors import InputError
from chshml.store import DatasetFile, read_input_h5

#: Prefix of per-shard attribute arrays (attributes the shards do not agree on).
SHARD_PREFIX = DatasetFile.SHARD_PREFIX
#: Prefix of attributes copied from the sample shards when label shards are merged.
SAMPLE_PREFIX = DatasetFile.SAMPLE_PREFIX
#: Per-shard counts and costs that add up over shards (``chshml concat``).
SUMMED_ATTRS = ("cpu_seconds", "n_points", "n_processed", "n_certified", "n_certified_now",
                "n_quantum", "n_not_quantum", "n_undecided")


def shard_sizes(n: int, shards: int) -> list[int]:
    """Points per shard: ``n`` cut into ``shards`` near-equal parts, larger parts first."""
    if n < 0 or shards < 1:
        raise InputError(f"cannot cut {n} points into {shards} shards")
    base, extra = divmod(n, shards)
    return [base + (1 if k < extra else 0) for k in range(shards)]


def select_rows(data: Mapping[str, np.ndarray], label: int | None, uncertified: bool,
                shard: int, shards: int) -> np.ndarray:
    """Indices of the rows to keep: with ``label`` (1, 0, -1) if given, not yet certified by
    a see-saw round if ``uncertified``, and in shard ``row % shards == shard``.
    """
    n = len(data["points"])
    keep = np.ones(n, dtype=bool)
    for name, wanted in (("label", label is not None), ("certified", uncertified)):
        if wanted and name not in data:
            raise InputError(f"input has no dataset {name!r} to select on")
    if label is not None:
        keep &= data["label"] == label
    if uncertified:
        keep &= data["certified"] == 0
    keep &= np.arange(n) % shards == shard
    return np.flatnonzero(keep)


def select_file(path: str | os.PathLike, label: int | None = None, uncertified: bool = False,
                shard: int = 0, shards: int = 1, *, to_boundary: bool = False
                ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The rows of result file ``path`` kept by :func:`select_rows`, with ``source_row``.

    With ``to_boundary`` each point ``p`` becomes ``lam * p``, its boundary point along the
    ray (``lam`` is the NPA gauge). Attributes are the input's plus the selection.
    """
    if shards < 1 or not 0 <= shard < shards:
        raise InputError(f"--shard must be in [0, --shards), got {shard} of {shards}")
    data, attrs = read_input_h5(path, "input")
    if "points" not in data:
        raise InputError(f"{path}: no dataset 'points'")
    rows = select_rows(data, label, uncertified, shard, shards)
    n = len(data["points"])
    out = {k: data[k][rows] for k in per_point(data, n)}
    out["source_row"] = rows.astype(np.int64)
    if to_boundary:
        if "lam" not in data:
            raise InputError(f"{path}: --to-boundary needs a 'lam' dataset")
        lam = out["lam"]
        if not np.all(np.isfinite(lam)):
            raise InputError(f"{path}: row {int(rows[~np.isfinite(lam)][0])} has no "
                             "finite lam")
        out["points"] = lam[:, None] * out["points"]
    return out, dict(attrs, selected_from=str(path), shard=shard, shards=shards)


def per_point(data: Mapping[str, Any], n: int) -> list[str]:
    """Sorted names of the datasets with one row per point (``n`` rows)."""
    return sorted(key for key, v in data.items() if np.ndim(v) >= 1 and len(v) == n)


def _n_points(data: Mapping[str, Any], path: Path) -> int:
    if "points" not in data:
        raise InputError(f"{path}: no dataset 'points' (found: {sorted(data)})")
    return int(np.asarray(data["points"]).shape[0])


class Stack(NamedTuple):
    """Shards stacked row-wise: the datasets, each shard's attributes and row count, and
    the attributes of the matching sample files (empty without them).
    """

    data: dict[str, np.ndarray]
    attrs: list[dict[str, Any]]
    sizes: list[int]
    sample_attrs: list[dict[str, Any]]


def concatenate(paths: Sequence[str | os.PathLike], *,
                samples: Sequence[str | os.PathLike] | None = None,
                what: str = "shard") -> Stack:
    """Stack the per-point datasets of ``paths`` row-wise, in order.

    Every shard must have a ``points`` dataset and the same per-point datasets (empty shards
    are fine). ``samples``, if given, are the matching sample files: their per-point datasets
    that a shard lacks (e.g. slice coordinates) are joined after checking that both hold the
    same points. ``what`` names the files in errors. Attributes are returned per shard,
    unmerged (see :func:`combine_attrs` and :func:`first_with_sums`).
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError(f"no {what}s given")
    if samples is not None and len(samples) != len(paths):
        raise InputError(f"{len(paths)} {what}s but {len(samples)} sample files")
    columns: dict[str, list[np.ndarray]] = {}
    attrs_list: list[dict[str, Any]] = []
    sample_attrs: list[dict[str, Any]] = []
    sizes: list[int] = []
    names: list[str] | None = None
    for k, path in enumerate(paths):
        data, attrs = read_input_h5(path, what)
        n = _n_points(data, path)
        if samples is not None:
            sdata, sattrs = read_input_h5(samples[k], "sample file")
            if _n_points(sdata, Path(samples[k])) != n or not np.array_equal(
                    np.asarray(sdata["points"]), np.asarray(data["points"])):
                raise InputError(f"{path} and {samples[k]} do not hold the same points")
            for key, value in sdata.items():
                if key not in data and np.ndim(value) >= 1 and len(value) == n:
                    data[key] = value
            sample_attrs.append(sattrs)
        keys = per_point(data, n)
        if names is None:
            names = keys
        elif keys != names:
            raise InputError(f"{path} has datasets {keys}, {paths[0]} has {names}")
        for key in keys:
            columns.setdefault(key, []).append(np.asarray(data[key]))
        attrs_list.append(attrs)
        sizes.append(n)
    assert names is not None
    out: dict[str, np.ndarray] = {}
    for key in names:
        try:
            out[key] = np.concatenate(columns[key])
        except ValueError as err:
            raise InputError(f"dataset {key!r} differs in shape across {what}s: {err}") from None
    return Stack(out, attrs_list, sizes, sample_attrs)


def _same(a: Any, b: Any) -> bool:
    """Equal values and shapes (NaN equals NaN in float arrays)."""
    a_arr, b_arr = np.asarray(a), np.asarray(b)
    try:
        nan_ok = a_arr.dtype.kind in "fc" and b_arr.dtype.kind in "fc"
        return bool(np.array_equal(a_arr, b_arr, equal_nan=nan_ok))
    except (TypeError, ValueError):
        return a == b


def attr_value(value: Any) -> Any:
    """An HDF5-storable form of an attribute value (bytes -> str, string arrays -> JSON)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.dtype.kind in ("O", "U", "S"):
        return json.dumps([attr_value(v) for v in value.tolist()])
    return value


def combine_attrs(per_shard: list[dict[str, Any]]) -> dict[str, Any]:
    """Attributes all shards agree on as they are; the others as ``shards.<name>``.

    Per-shard numbers become a float array, anything else a JSON list (HDF5 attributes hold
    no arrays of strings through :func:`chshml.store.write_h5`).
    """
    keys: list[str] = []
    for attrs in per_shard:
        keys.extend(k for k in attrs if k not in keys)
    out: dict[str, Any] = {}
    for key in keys:
        values = [attr_value(a.get(key)) for a in per_shard]
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


def first_with_sums(per_shard: list[dict[str, Any]],
                    summed: tuple[str, ...] = SUMMED_ATTRS) -> dict[str, Any]:
    """The first shard's attributes, with the additive ones (``summed``) summed over shards."""
    attrs = dict(per_shard[0])
    for key, value in per_shard[0].items():
        if key in summed and isinstance(value, (int, float, np.integer, np.floating)):
            attrs[key] = sum(a.get(key, 0) for a in per_shard)
    return attrs


def total_cpu(per_shard: list[dict[str, Any]]) -> float:
    """Summed ``cpu_seconds`` of the shards (missing or empty counts as 0)."""
    return float(sum(float(a.get("cpu_seconds", 0.0) or 0.0) for a in per_shard))
