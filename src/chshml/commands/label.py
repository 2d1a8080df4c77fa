"""``chshml label INPUT -o OUT.h5 --level L``: certified NPA gauges and labels of behaviours."""

from __future__ import annotations

import argparse

from chshml.errors import InputError
from chshml.store import H5_SUFFIXES, check_output, load_points


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``label`` subcommand."""
    p = sub.add_parser("label", help="label behaviours quantum (1) / not (0) / undecided (-1) "
                       "with the NPA gauge")
    p.add_argument("input", help="HDF5 with dataset 'points', .npy or .csv (n x 4 or n x 8)")
    p.add_argument("-o", "--output", required=True, help="output HDF5 file")
    p.add_argument("--level", required=True, help="NPA level: 1, 1+AB, 2, 3, 4 or 'k+AB+AAB...'")
    p.add_argument("--solver", default="auto", help="auto | batched | clarabel | mosek | scs "
                   "(auto: the batched interior-point solver where validated, levels 1, 1+AB, "
                   "2, 3, with per-point fallback to MOSEK if licensed, else Clarabel; "
                   "batched: the same, and an error at other levels)")
    p.add_argument("--tol", type=float, default=1e-6,
                   help="undecided band |lam - 1| < tol; brackets must be narrower than tol/2")
    p.add_argument("--executor", choices=("local", "slurm"), default="local",
                   help="slurm: submit --shards shards as one SLURM job array (submitit)")
    p.add_argument("--shards", type=int, default=1, help="split the input into this many shards")
    p.add_argument("--partition", default=None, help="SLURM partition (with --executor slurm)")
    p.add_argument("--account", default=None, help="SLURM account (with --executor slurm)")
    p.add_argument("--allow-outside-ns", action="store_true", help=(
        "accept points outside NS (the outer points of the paper's boundary-pair and spread "
        "recipes): they get label 0 with a bare NS-facet witness"))
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Label the input (in shards if asked) and write the label file."""
    from chshml.npa.labelling import label_file, validate_label_options  # scipy: lazy

    level = validate_label_options(args.level, args.solver, args.tol)
    if args.shards < 1:
        raise InputError(f"--shards must be >= 1, got {args.shards}")
    check_output(args.output, [args.input], suffixes=H5_SUFFIXES)
    points = load_points(args.input, check_ns=not args.allow_outside_ns)
    if args.executor == "slurm" or args.shards > 1:
        from chshml.npa.sharded import label_sharded

        label_sharded(args.input, args.output, level, args.solver, args.tol, args.executor,
                      args.shards, args.partition, args.account)
        return 0
    label_file(points, args.output, level, args.solver, args.tol, progress=not args.quiet,
               inputs=(args.input,))
    return 0
