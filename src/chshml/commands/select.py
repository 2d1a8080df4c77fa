"""``chshml select``: pick rows of a result file (by label, uncertified, shard) into a new file.

Used to feed see-saw rounds: round k takes the points of the previous round that are not yet
certified, split into shards by row index (``row % shards == shard``).
"""

from __future__ import annotations

import argparse

from chshml.shards import select_file
from chshml.store import H5_SUFFIXES, check_output, write_h5


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``select`` subcommand."""
    p = sub.add_parser("select", help="select rows of an HDF5 result (label, uncertified, shard)")
    p.add_argument("input", help="HDF5 file with a 'points' dataset")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--label", type=int, choices=(-1, 0, 1), default=None,
                   help="keep rows with this label")
    p.add_argument("--uncertified", action="store_true",
                   help="keep rows whose 'certified' flag is 0 (see-saw rounds)")
    p.add_argument("--to-boundary", action="store_true",
                   help="replace each point p by lam * p (its boundary point along the ray)")
    p.add_argument("--shard", type=int, default=0)
    p.add_argument("--shards", type=int, default=1)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Write the selected rows (and their ``source_row``) with the input's attributes."""
    check_output(args.output, [args.input], suffixes=H5_SUFFIXES)
    data, attrs = select_file(args.input, args.label, args.uncertified, args.shard, args.shards,
                              to_boundary=args.to_boundary)
    write_h5(args.output, data, attrs, inputs=(args.input,))
    return 0
