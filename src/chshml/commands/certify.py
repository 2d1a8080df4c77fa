"""``chshml certify INPUT -o OUT.h5 [--level L]``: membership in Q itself, certified both ways.

Label 1: a decomposition into at most 9 two-qubit atoms reproducing the point to 1e-9;
label 0: outside ``Q_L`` (hence outside Q), with the NPA dual witness as ``chshml label``
stores it; label -1: undecided, with the gap to the inner hull and the NPA bracket.
"""

from __future__ import annotations

import argparse

from chshml.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("certify", help="certify membership in Q: 1 (decomposition into qubit "
                       "atoms), 0 (NPA witness), -1 (undecided, with its gap)")
    p.add_argument("input", help="HDF5 with dataset 'points', .npy or .csv (n x 4 or n x 8)")
    p.add_argument("-o", "--output", required=True, help="output HDF5 file")
    p.add_argument("--level", default="4",
                   help="NPA level of the outer filter (default 4: the Table VIII filter)")
    p.add_argument("--tol", type=float, default=1e-6,
                   help="NPA undecided band |lam - 1| < tol (as chshml label)")
    p.add_argument("--max-iter", type=int, default=150,
                   help="column-generation iterations per point before 'undecided'")
    p.add_argument("--seed", type=int, default=0, help="seed of the oracle's random starts")
    p.add_argument("--shard", type=int, default=0,
                   help="certify only rows with row %% shards == shard")
    p.add_argument("--shards", type=int, default=1, help="number of shards (see --shard)")
    p.add_argument("--allow-outside-ns", action="store_true", help=(
        "accept points outside NS (outer points of the paper's boundary-pair and spread "
        "recipes): label 0 with a bare NS-facet witness, as chshml label gives them"))
    p.add_argument("--clean", action="store_true",
                   help="remove the checkpoint folder OUT.h5.progress/ after writing OUT.h5 "
                        "(finished blocks of 256 points are kept there, so a killed run "
                        "resumes)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Certify the input's points (one shard of them) and write the certify file."""
    from chshml.certify.membership import certify_file
    from chshml.npa.labelling import validate_label_options

    level = validate_label_options(args.level, "auto", args.tol)
    if args.shards < 1:
        raise InputError(f"--shards must be >= 1, got {args.shards}")
    if not 0 <= args.shard < args.shards:
        raise InputError(f"--shard must be in [0, {args.shards}), got {args.shard}")
    if args.max_iter < 1:
        raise InputError(f"--max-iter must be >= 1, got {args.max_iter}")
    certify_file(args.input, args.output, level, tol=args.tol, max_iter=args.max_iter,
                 seed=args.seed, shard=args.shard, shards=args.shards,
                 allow_outside_ns=args.allow_outside_ns, progress=not args.quiet,
                 keep_checkpoint=not args.clean)
    return 0
