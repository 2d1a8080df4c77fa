"""``chshml seesaw INPUT -o OUT.h5 --dim D --seeds S``: steered see-saw distances to Q_{DxD}."""

from __future__ import annotations

import argparse

import numpy as np

from chshml import __version__
from chshml.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("seesaw", help="steered see-saw: distance to Q_{d x d} and a "
                       "certified realisation per point")
    p.add_argument("input", help="HDF5 with dataset 'points' (optional 'certified': those "
                   "points are skipped), .npy or .csv (n x 4 or n x 8)")
    p.add_argument("-o", "--output", required=True, help="output HDF5 file")
    p.add_argument("--dim", type=int, required=True, help="local dimension d")
    p.add_argument("--seeds", type=int, required=True, help="random restarts per point")
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


def _load(path: str) -> tuple[np.ndarray, np.ndarray]:
    """Points and the mask of points already certified by an earlier round."""
    from chshml.store import load_points

    points = load_points(path, allow_empty=True)  # a late round's shard may be empty
    prior = np.zeros(len(points), dtype=bool)
    if path.lower().endswith((".h5", ".hdf5")):
        import h5py

        with h5py.File(path, "r") as f:
            if "certified" in f:
                prior = np.asarray(f["certified"][()]).astype(bool).reshape(-1)
                if len(prior) != len(points):
                    raise InputError(f"{path}: 'certified' has {len(prior)} rows, 'points' "
                                     f"has {len(points)}")
    return points, prior


def run(args: argparse.Namespace) -> int:
    from chshml.seesaw.driver import SeesawConfig, progress_dir, run_points
    from chshml.store import H5_SUFFIXES, check_output, write_h5

    check_output(args.output, [args.input], suffixes=H5_SUFFIXES)
    cfg = SeesawConfig(dim=args.dim, seeds=args.seeds, engine=args.engine,
                       threshold=args.threshold, first_seed=args.first_seed,
                       base_seed=args.base_seed, max_iter=args.max_iter,
                       polish=True if args.polish else None, chunk=args.chunk,
                       seed_batch=args.seed_batch)
    cfg.check()
    for name in ("max_iter", "chunk", "seed_batch"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise InputError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    points, prior = _load(args.input)
    res = run_points(points, cfg, todo=~prior, progress=progress_dir(args.output),
                     log=not args.quiet, keep_progress=not args.clean)
    if res is None:  # a non-root MPI rank
        return 0
    certified = res.certified | prior
    datasets = {
        "points": points, "distance": res.distance, "certified": certified.astype(np.int8),
        "seed": res.seed, "seeds_tried": res.seeds_tried, "iterations": res.iterations,
        "processed": res.processed.astype(np.int8), "previously_certified": prior.astype(np.int8),
        "state": res.state, "A": res.a, "B": res.b,
    }
    attrs = {"dim": cfg.dim, "n_seeds": cfg.seeds, "first_seed": cfg.first_seed,
             "base_seed": cfg.base_seed, "engine": cfg.engine, "threshold": cfg.threshold,
             "chshml_version": __version__, "cpu_seconds": res.cpu_seconds,
             "n_points": len(points), "n_processed": int(res.processed.sum()),
             "n_certified": int(certified.sum()), "n_certified_now": int(res.certified.sum()),
             "matrices": "real symmetric; state index i*d + j (Alice i, Bob j)"}
    write_h5(args.output, datasets, attrs, inputs=(args.input,))
    return 0
