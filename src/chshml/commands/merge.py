"""``chshml merge``: concatenate shard files into one dataset with a seeded train/val/test split."""

from __future__ import annotations

import argparse
import sys

from chshml.commands._args import json_or_text, key_value
from chshml.errors import InputError
from chshml.merge import DEFAULT_SPLIT, merge_shards, parse_split
from chshml.store import H5_SUFFIXES, check_output


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``merge`` subcommand."""
    p = subparsers.add_parser(
        "merge", help="merge shard files into one dataset (atomic, with split and provenance)",
        description=__doc__)
    p.add_argument("shards", nargs="+", metavar="SHARD",
                   help="shard files in shard order (label outputs, or sample outputs)")
    p.add_argument("-o", "--output", required=True, help="merged HDF5 file")
    p.add_argument("--samples", nargs="+", default=None, metavar="SAMPLE",
                   help="the sample files matching SHARD... (extra per-point data, sampling "
                        "CPU time)")
    p.add_argument("--split", default=",".join(f"{f:g}" for f in DEFAULT_SPLIT),
                   help="train,val,test fractions (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="global seed of the split (default 0)")
    p.add_argument("--split-group", type=int, default=1, metavar="G",
                   help="keep blocks of G consecutive points in one split (2: boundary pairs)")
    p.add_argument("--dataset", default="", help="dataset name (keys the split's RNG stream)")
    p.add_argument("--attr", type=key_value, action="append", default=[], metavar="KEY=VALUE",
                   help="extra provenance attribute (JSON value or string); repeatable")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Merge and print a one-line summary."""
    check_output(args.output, [*args.shards, *(args.samples or [])], suffixes=H5_SUFFIXES)
    if args.seed < 0:
        raise InputError("--seed must be non-negative")
    if args.split_group < 1:
        raise InputError(f"--split-group must be >= 1, got {args.split_group}")
    summary = merge_shards(args.shards, args.output, split=parse_split(args.split),
                           seed=args.seed, dataset=args.dataset, sample_paths=args.samples,
                           extra_attrs={k: json_or_text(v) for k, v in args.attr},
                           split_group=args.split_group)
    print(f"merged {summary['n_shards']} shards, {summary['n_points']} points "
          f"(train {summary['n_train']}, val {summary['n_val']}, test {summary['n_test']}), "
          f"{summary['cpu_seconds']:.1f} CPU s -> {args.output}", file=sys.stderr)
    return 0

