"""``chshml label INPUT -o OUT.h5 --level L``: certified NPA gauges and labels of behaviours."""

from __future__ import annotations

import argparse

import numpy as np

from chshml import __version__
from chshml.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
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


def check_options(level: str, solver: str, tol: float) -> tuple[str, str]:
    """Validate level, solver and tolerance before any work; return (level, cvxpy solver)."""
    from chshml.npa.batched import require_validated
    from chshml.npa.solvers import resolve_solver
    from chshml.npa.words import normalise_level

    try:
        level = normalise_level(level)
    except ValueError as err:
        raise InputError(f"--level: {err}") from None
    if not (np.isfinite(tol) and 0 < tol < 0.1):
        raise InputError(f"--tol must be in (0, 0.1), got {tol}")
    if str(solver).lower() == "batched":
        require_validated(level)
    return level, resolve_solver(solver)


def label_file(points: np.ndarray, output: str, level: str, solver: str, tol: float,
               progress: bool = True, attrs: dict | None = None,
               inputs: tuple = ()) -> None:
    """Label ``points`` and write the result file atomically."""
    from chshml.geometry import space_of_dim
    from chshml.npa import label_points
    from chshml.store import write_h5

    res = label_points(points, level, solver=solver, tol=tol, progress=progress)
    datasets = {
        "points": points, "lam": res.lam, "lam_lo": res.lam_lo, "lam_hi": res.lam_hi,
        "label": res.label.astype(np.int8), "status": res.status,
        "witness_beta": res.witness_beta, "witness_beta0": res.witness_beta0,
    }
    datasets.update(res.extra)
    meta = {
        "level": res.level, "solver": res.solver, "tol": res.tol,
        "space": space_of_dim(points.shape[1]), "chshml_version": __version__,
        "cpu_seconds": res.cpu_seconds, "n_points": len(points),
        "n_quantum": int(np.sum(res.label == 1)), "n_not_quantum": int(np.sum(res.label == 0)),
        "n_undecided": int(np.sum(res.label == -1)),
    }
    meta.update(getattr(res, "attrs", {}) or {})  # certificate map of the batched engine
    meta.update(attrs or {})
    write_h5(output, datasets, meta, inputs=inputs)


def run(args: argparse.Namespace) -> int:
    from chshml.store import H5_SUFFIXES, check_output, load_points

    level, _ = check_options(args.level, args.solver, args.tol)
    if args.shards < 1:
        raise InputError(f"--shards must be >= 1, got {args.shards}")
    check_output(args.output, [args.input], suffixes=H5_SUFFIXES)
    points = load_points(args.input, check_ns=not args.allow_outside_ns)
    if args.executor == "slurm" or args.shards > 1:
        from chshml.adhoc import label_sharded

        label_sharded(args.input, args.output, level, args.solver, args.tol, args.executor,
                      args.shards, args.partition, args.account)
        return 0
    label_file(points, args.output, level, args.solver, args.tol, progress=not args.quiet,
               inputs=(args.input,))
    return 0
