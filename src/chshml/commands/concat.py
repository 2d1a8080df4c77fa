"""``chshml concat``: stack result shards row-wise into one file (datasets of equal length)."""

from __future__ import annotations

import argparse

from chshml.shards import concatenate, first_with_sums
from chshml.store import H5_SUFFIXES, check_output, write_h5


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``concat`` subcommand."""
    p = sub.add_parser("concat", help="concatenate HDF5 result shards row-wise")
    p.add_argument("inputs", nargs="+", help="shard files, in order")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Concatenate; additive attributes (cpu_seconds, n_*) are summed, others are the first
    shard's (:func:`chshml.shards.first_with_sums`).
    """
    check_output(args.output, args.inputs, suffixes=H5_SUFFIXES)
    stack = concatenate(args.inputs, what="input")
    attrs = {**first_with_sums(stack.attrs), "n_shards": len(args.inputs)}
    write_h5(args.output, stack.data, attrs, inputs=args.inputs)
    return 0
