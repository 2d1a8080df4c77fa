"""Certify throughput: points per CPU-second of ``certify_points`` against the fast see-saw.

Three kinds of targets (8-D):

* ``simplex``  — uniform points of the canonical nonlocal simplex (the Table VIII input);
* ``boundary`` — simplex points moved to ``(1 - 1e-6)`` times their level-4 gauge: inside
  ``Q_4`` and within 1e-6 of its boundary (the hard case for any inner method);
* ``qubit``    — behaviours of random pure two-qubit realisations (extreme points of Q).

For each kind: certify (level-4 filter + decompositions) and, in the same run, the fast
steered see-saw (:mod:`chshml.seesaw`, ``--seeds`` restarts, threshold 1e-7) at local
dimension d = 2..6 on a subsample. Printed: points per CPU-second, the share of points each
method certifies inside Q, and the ratio certify / see-saw. CPU seconds with BLAS pinned to
one thread.

    python benchmarks/certify_throughput.py --quick     # ~1-2 CPU-minutes
    python benchmarks/certify_throughput.py             # 300 points per kind
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from chshml import geometry as g  # noqa: E402
from chshml.certify.atoms import behaviours  # noqa: E402
from chshml.certify.membership import certify_points  # noqa: E402
from chshml.npa.batched import BatchedGauge  # noqa: E402
from chshml.seesaw import SeesawConfig, run_points  # noqa: E402


def targets(kind: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "qubit":
        psi = rng.standard_normal((n, 4))
        psi /= np.linalg.norm(psi, axis=1, keepdims=True)
        return behaviours(psi, rng.uniform(0, 2 * np.pi, (n, 4)))
    pts = rng.dirichlet(np.ones(9), n) @ g.nonlocal_simplex_vertices(0)
    if kind == "boundary":
        res = BatchedGauge("4").solve(pts)
        pts = pts * (res.lam * (1 - 1e-6))[:, None]
    return pts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="60 points per kind, see-saw on 6")
    ap.add_argument("--points", type=int, default=None)
    ap.add_argument("--seesaw-points", type=int, default=None)
    ap.add_argument("--seeds", type=int, default=4, help="see-saw restarts per point")
    ap.add_argument("--dims", type=int, nargs="+", default=[2, 3, 4, 5, 6])
    ap.add_argument("--level", default="4")
    args = ap.parse_args()
    n = args.points or (60 if args.quick else 300)
    m = args.seesaw_points or (6 if args.quick else 20)
    print(f"# certify (level {args.level} filter) on {n} points per kind; fast see-saw "
          f"({args.seeds} seeds, threshold 1e-7) on the first {m}; CPU seconds, 1 thread")
    print(f"{'kind':>9} {'method':>12} {'pts/CPU-s':>10} {'in Q':>7} {'certify/this':>13}")
    for k, kind in enumerate(("simplex", "boundary", "qubit")):
        pts = targets(kind, n, seed=100 + k)
        t0 = time.process_time()
        res = certify_points(pts, args.level)
        cpu = time.process_time() - t0
        rate = n / cpu
        print(f"{kind:>9} {'certify':>12} {rate:>10.2f} {np.mean(res.label == 1):>7.3f} "
              f"{'1':>13}   (refuted {np.mean(res.label == 0):.3f}, undecided "
              f"{np.mean(res.label == -1):.3f}, NPA share of CPU "
              f"{res.cpu_seconds_npa / res.cpu_seconds:.2f})", flush=True)
        for d in args.dims:
            cfg = SeesawConfig(local_dim=d, restarts=args.seeds, engine="fast", threshold=1e-7)
            t0 = time.process_time()
            ss = run_points(pts[:m], cfg, comm=None, log=False)
            cpu_s = time.process_time() - t0
            rate_s = m / cpu_s
            print(f"{kind:>9} {f'seesaw d={d}':>12} {rate_s:>10.2f} "
                  f"{np.mean(ss.certified):>7.3f} {rate / rate_s:>13.1f}", flush=True)


if __name__ == "__main__":
    main()
