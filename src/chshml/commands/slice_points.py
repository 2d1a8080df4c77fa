"""``chshml slice``: behaviours on a 2-D slice (paper Figs. 3-5), uniform or on a grid.

Uniform mode draws ``-n`` points of the slice rectangle that lie in NS from the shard's own
stream ``shard_rng(seed, dataset, shard)``. Grid mode takes shard ``K`` of ``--shards`` of the
regular ``--side x --side`` grid (points outside NS dropped), so a grid can be sharded too.
Writes ``points`` and ``xy`` (slice coordinates) and provenance attributes.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from chshml import __version__
from chshml.errors import InputError
from chshml.geometry import SLICES, ns_violation, space_of_dim
from chshml.seeds import shard_rng
from chshml.shards import shard_sizes
from chshml.store import H5_SUFFIXES, SampleFile, check_output, write_h5


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``slice`` subcommand."""
    p = subparsers.add_parser("slice", help="points on a 2-D slice (uniform or grid)",
                              description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--slice", required=True, choices=sorted(SLICES), help="which slice")
    p.add_argument("--mode", choices=("uniform", "grid"), default="uniform")
    p.add_argument("-n", type=int, default=None, help="points (uniform mode)")
    p.add_argument("--side", type=int, default=None, help="grid side (grid mode)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dataset", default="")
    p.add_argument("--shard", type=int, default=0)
    p.add_argument("--shards", type=int, default=1, help="number of shards (grid mode)")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Write the slice points of one shard."""
    check_output(args.output, suffixes=H5_SUFFIXES)
    t0 = time.process_time()
    sl = SLICES[args.slice]
    if not (0 <= args.seed < 2**63 and 0 <= args.shard < 2**63):
        raise InputError("--seed and --shard must be in [0, 2^63)")
    if args.shards < 1:
        raise InputError(f"--shards must be >= 1, got {args.shards}")
    if args.mode == "grid" and not 0 <= args.shard < args.shards:
        raise InputError("grid mode needs 0 <= --shard < --shards")
    if args.mode == "uniform":
        if not args.n or args.n < 1:
            raise InputError("uniform mode needs -n >= 1")
        xy, points = sl.uniform(args.n, shard_rng(args.seed, args.dataset, args.shard))
    else:
        if not args.side or args.side < 2:
            raise InputError("grid mode needs --side >= 2")
        xy, points = sl.grid(args.side)
        inside = ns_violation(points) <= 1e-12
        xy, points = xy[inside], points[inside]
        sizes = shard_sizes(len(points), args.shards)
        start = sum(sizes[:args.shard])
        xy, points = xy[start:start + sizes[args.shard]], points[start:start + sizes[args.shard]]
    attrs = {"slice": sl.name, "slice_description": sl.description, "mode": args.mode,
             "space": space_of_dim(sl.dim), "method": f"slice-{args.mode}",
             "seed": args.seed, "dataset": args.dataset, "shard": args.shard,
             "chshml_version": __version__, "cpu_seconds": time.process_time() - t0}
    write_h5(args.output, {SampleFile.POINTS: np.asarray(points, float),
                           SampleFile.XY: np.asarray(xy, float)}, attrs)
    print(f"slice {sl.name} ({args.mode}): {len(points)} points -> {args.output}",
          file=sys.stderr)
    return 0
