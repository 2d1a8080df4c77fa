"""``chshml seesaw INPUT -o OUT.h5 --local-dim D --restarts S``: steered see-saw distances to
Q_{DxD}.
"""

from __future__ import annotations

import argparse

from chshml.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("seesaw", help="steered see-saw: distance to Q_{d x d} and a "
                       "certified realisation per point")
    p.add_argument("input", help="HDF5 with dataset 'points' (optional 'certified': those "
                   "points are skipped), .npy or .csv (n x 4 or n x 8)")
    p.add_argument("-o", "--output", required=True, help="output HDF5 file")
    p.add_argument("--local-dim", "--dim", dest="local_dim", type=int, required=True,
                   help="local Hilbert dimension d (--dim: old name)")
    p.add_argument("--restarts", "--seeds", dest="restarts", type=int, required=True,
                   help="random restarts per point (--seeds: old name)")
    p.add_argument("--engine", choices=("fast", "sdp"), default="fast",
                   help="fast: FISTA + Levenberg-Marquardt (default); sdp: cvxpy SDP steps")
    p.add_argument("--threshold", type=float, default=1e-7,
                   help="certify when the realisation reproduces p within this 2-norm")
    p.add_argument("--first-seed", type=int, default=0, help="first restart seed (rounds)")
    p.add_argument("--base-seed", type=int, default=0, help="key of the restart stream")
    p.add_argument("--max-iter", type=int, default=None, help="outer iterations per restart")
    p.add_argument("--chunk", type=int, default=None,
                   help="points solved together and recorded at once (fast: 8, sdp: 1)")
    p.add_argument("--seed-batch", type=int, default=None,
                   help="restarts run together per point (fast: 16, sdp: 1)")
    p.add_argument("--polish", action="store_true",
                   help="sdp engine: finish with the Levenberg-Marquardt polish")
    p.add_argument("--clean", action="store_true",
                   help="remove the progress folder OUT.h5.progress/ after writing OUT.h5")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chshml.progress import progress_dir
    from chshml.seesaw.io import write_output
    from chshml.seesaw.job import run_points
    from chshml.seesaw.records import SeesawConfig
    from chshml.store import H5_SUFFIXES, check_output, load_seesaw_input

    check_output(args.output, [args.input], suffixes=H5_SUFFIXES)
    cfg = SeesawConfig(local_dim=args.local_dim, restarts=args.restarts, engine=args.engine,
                       threshold=args.threshold, first_seed=args.first_seed,
                       base_seed=args.base_seed, max_iter=args.max_iter,
                       polish=True if args.polish else None, chunk=args.chunk,
                       seed_batch=args.seed_batch)
    cfg.check()
    for name in ("max_iter", "chunk", "seed_batch"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise InputError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    points, prior = load_seesaw_input(args.input)
    res = run_points(points, cfg, todo=~prior, progress=progress_dir(args.output),
                     log=not args.quiet, keep_progress=not args.clean)
    if res is None:  # a non-root MPI rank
        return 0
    write_output(args.output, cfg, points, prior, res, inputs=(args.input,))
    return 0
