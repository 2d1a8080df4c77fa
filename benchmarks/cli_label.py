"""``chshml label`` as a user runs it, against a naive per-point cvxpy loop in the same run.

The whole command is timed as a child process (start-up, reading, labelling, certificates,
writing), with the environment the user has: no thread variables are pinned here, so the
command's own ``--threads`` default is what is measured. The naive baseline (a new cvxpy
problem per point, Clarabel) is timed on a subsample in this process, one BLAS thread.

    python benchmarks/cli_label.py                  # 2 x 10^4 fresh 1+AB points
    python benchmarks/cli_label.py -n 2000 --naive 100 --also-threads 2
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from chshml.store import read_h5


def child_cpu() -> float:
    """CPU seconds (user + system) of all waited-for children so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_cli(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one ``chshml`` process."""
    cpu0, t0 = child_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "chshml.cli", *args], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0, child_cpu() - cpu0


def naive_seconds_per_point(points: np.ndarray, level: str) -> float:
    """CPU seconds per point of a new cvxpy problem per point (Clarabel), one BLAS thread."""
    from threadpoolctl import threadpool_limits

    from chshml.npa.gauge import GaugeProblem

    with threadpool_limits(1):
        t0 = time.process_time()
        for p in points:
            GaugeProblem(level, "CLARABEL").solve(p)
        return (time.process_time() - t0) / len(points)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=20000, help="points labelled by the command")
    ap.add_argument("--naive", type=int, default=300, help="points of the naive subsample")
    ap.add_argument("--level", default="1+AB")
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100000,
                    help="fresh points by default")
    ap.add_argument("--also-threads", type=int, nargs="*", default=[],
                    help="also run with --threads N for these N")
    opts = ap.parse_args()
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    with tempfile.TemporaryDirectory() as tmp:
        pts = Path(tmp) / "points.h5"
        subprocess.run([sys.executable, "-m", "chshml.cli", "sample", "--space", "full8",
                        "--method", "uniform", "-n", str(opts.n), "--seed", str(opts.seed),
                        "-o", str(pts)], check=True, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        points = read_h5(pts)[0]["points"]
        runs = {"default": []}
        runs.update({f"--threads {t}": ["--threads", str(t)] for t in opts.also_threads})
        rows = []
        for name, extra in runs.items():
            out = Path(tmp) / f"out{len(rows)}.h5"
            wall, cpu = run_cli(["label", str(pts), "-o", str(out), "--level", opts.level,
                                 "--quiet", *extra], env)
            rows.append((name, wall, cpu))
        sub = points[np.random.default_rng(opts.seed).choice(len(points), opts.naive,
                                                             replace=False)]
        naive = naive_seconds_per_point(sub, opts.level)
    print(f"chshml label, {opts.n} fresh {opts.level} points (seed {opts.seed}), whole process;"
          f" naive cvxpy loop: {1e3 * naive:.2f} CPU-ms per point ({opts.naive} points)")
    print(f"{'run':>14} {'wall s':>8} {'CPU s':>8} {'ms/pt wall':>11} {'x naive (wall)':>15}"
          f" {'x naive (CPU)':>14}")
    for name, wall, cpu in rows:
        print(f"{name:>14} {wall:8.2f} {cpu:8.2f} {1e3 * wall / opts.n:11.3f}"
              f" {naive * opts.n / wall:15.1f} {naive * opts.n / cpu:14.1f}")


if __name__ == "__main__":
    main()
