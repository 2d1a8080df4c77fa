"""``chshml select``: pick rows of a result file (by label, uncertified, shard) into a new file.

Used to feed see-saw rounds: round k takes the points of the previous round that are not yet
certified, split into shards by row index (``row % shards == shard``).
"""

from __future__ import annotations

import argparse

import numpy as np

from chshml.errors import InputError
from chshml.shards import per_point, select_rows
from chshml.store import H5_SUFFIXES, check_output, read_input_h5, write_h5


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
    if args.shards < 1 or not 0 <= args.shard < args.shards:
        raise InputError(f"--shard must be in [0, --shards), got {args.shard} of {args.shards}")
    data, attrs = read_input_h5(args.input, "input")
    if "points" not in data:
        raise InputError(f"{args.input}: no dataset 'points'")
    rows = select_rows(data, args.label, args.uncertified, args.shard, args.shards)
    n = len(data["points"])
    out = {k: data[k][rows] for k in per_point(data, n)}
    out["source_row"] = rows.astype(np.int64)
    if args.to_boundary:
        if "lam" not in data:
            raise InputError(f"{args.input}: --to-boundary needs a 'lam' dataset")
        lam = out["lam"]
        if not np.all(np.isfinite(lam)):
            raise InputError(f"{args.input}: row {int(rows[~np.isfinite(lam)][0])} has no "
                             "finite lam")
        out["points"] = lam[:, None] * out["points"]
    attrs = dict(attrs, selected_from=str(args.input), shard=args.shard, shards=args.shards)
    write_h5(args.output, out, attrs, inputs=(args.input,))
    return 0
