"""CPU seconds per (point, seed) of the steered see-saw, both engines, d = 2, 4, 6, one run.

Targets: behaviours of random qubit realisations (certifiable) and points just beyond
Tsirelson (never certifiable: every seed runs until it stalls), so both stopping modes count.
Usage: ``python benchmarks/seesaw_cost.py [--quick] [--dims 2 4 6] [--points N] [--seeds S]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from chshml.seesaw.engine_fast import seesaw_fast
from chshml.seesaw.engine_sdp import seesaw_sdp
from chshml.seesaw.realisation import (
    behaviour,
    check_realisation,
    initial_observables,
    qubit_realisation,
)


def targets(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        if k % 2:
            c = 1 / np.sqrt(2) + 0.01 * (k + 1)
            out.append([0, 0, 0, 0, c, c, c, -c])
        else:
            th = rng.uniform(0, 2 * np.pi, 4)
            out.append(behaviour(*qubit_realisation(th[:2], th[2:], rng.standard_normal(4))))
    return np.array(out, dtype=float)


def measure(engine, pts: np.ndarray, dim: int, seeds: int) -> tuple[float, int]:
    p = np.repeat(pts, seeds, axis=0)
    a0, b0 = initial_observables(dim, np.tile(np.arange(seeds), len(pts)))
    t0 = time.process_time()
    res = engine(p, a0, b0, 1e-7)
    cpu = time.process_time() - t0
    cert = check_realisation(p, res.state, res.a, res.b, 1e-7).certified
    return cpu / len(p), int(cert.sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="d = 2, 4 only, 2 points x 1 seed")
    ap.add_argument("--dims", type=int, nargs="+", default=None)
    ap.add_argument("--points", type=int, default=None)
    ap.add_argument("--seeds", type=int, default=None)
    args = ap.parse_args()
    dims = args.dims or ([2, 4] if args.quick else [2, 4, 6])
    n = args.points or 2
    seeds = args.seeds or (1 if args.quick else 2)
    pts = targets(n)
    print(f"# {n} points x {seeds} seeds per engine (half certifiable, half beyond Tsirelson)")
    print(f"{'d':>3} {'sdp s/(pt,seed)':>16} {'fast s/(pt,seed)':>17} {'sdp/fast':>9} "
          f"{'certified sdp/fast':>19}")
    for d in dims:
        t_sdp, c_sdp = measure(seesaw_sdp, pts, d, seeds)
        t_fast, c_fast = measure(seesaw_fast, pts, d, seeds)
        print(f"{d:>3} {t_sdp:>16.4f} {t_fast:>17.4f} {t_sdp / t_fast:>9.1f} "
              f"{c_sdp:>9d}/{c_fast:<9d}", flush=True)


if __name__ == "__main__":
    main()
