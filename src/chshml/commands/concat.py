"""``chshml concat``: stack result shards row-wise into one file (datasets of equal length)."""

from __future__ import annotations

import argparse

import numpy as np

from chshml.errors import InputError

#: Per-shard counts and costs that add up over shards.
SUMMED_ATTRS = ("cpu_seconds", "n_points", "n_processed", "n_certified", "n_certified_now",
                "n_quantum", "n_not_quantum", "n_undecided")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("concat", help="concatenate HDF5 result shards row-wise")
    p.add_argument("inputs", nargs="+", help="shard files, in order")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(run=run)


def concat_files(paths: list[str]) -> tuple[dict[str, np.ndarray], dict]:
    """Row-wise concatenation; per-row datasets must exist in every shard (empty shards ok).

    Additive attributes (:data:`SUMMED_ATTRS`) are summed; others come from the first shard.
    """
    from chshml.store import read_input_h5

    parts, attrs_list = [], []
    for path in paths:
        data, attrs = read_input_h5(path, "input")
        if "points" not in data:
            raise InputError(f"{path}: no dataset 'points'")
        n = len(data["points"])
        parts.append({k: v for k, v in data.items() if v.ndim >= 1 and len(v) == n})
        attrs_list.append(attrs)
    names = set(parts[0])
    for path, part in zip(paths, parts, strict=True):
        if set(part) != names:
            raise InputError(f"{path}: datasets {sorted(set(part) ^ names)} differ from "
                             f"{paths[0]}")
    out = {k: np.concatenate([p[k] for p in parts]) for k in sorted(names)}
    attrs = dict(attrs_list[0])
    for key, value in attrs_list[0].items():
        if key in SUMMED_ATTRS and isinstance(value, (int, float, np.integer, np.floating)):
            attrs[key] = sum(a.get(key, 0) for a in attrs_list)
    attrs["n_shards"] = len(paths)
    return out, attrs


def run(args: argparse.Namespace) -> int:
    from chshml.store import H5_SUFFIXES, check_output, write_h5

    check_output(args.output, args.inputs, suffixes=H5_SUFFIXES)
    data, attrs = concat_files(args.inputs)
    write_h5(args.output, data, attrs, inputs=args.inputs)
    return 0
