"""Labelling throughput: points per CPU-second of four NPA gauge engines, in one run.

Engines (levels 1, 1+AB, 2, 3, 4; at level 4 the Clarabel references run on the subsample):

* ``naive``    — a new cvxpy problem per point, solved by Clarabel (the baseline);
* ``compiled`` — one cvxpy problem with the behaviour as a Parameter (DPP), Clarabel;
* ``clarabel`` — Clarabel's own Python API, problem data built once per level;
* ``batched``  — :func:`chshml.npa.label_points` default path: the vectorised
  interior-point solver with Clarabel fallback, certificates included.

Single-threaded figures are CPU seconds with BLAS limited to one thread; the run also labels
with the batched engine on all cores (one process per core; ``--no-cores`` skips it) and
reports points per wall second. It checks the batched ``lam`` against compiled Clarabel on
every point (1e-8 plus Clarabel's own certified bracket width), that the two certified
brackets intersect, and that no label differs outside the tolerance band. Clarabel's own
brackets are wide at level 3 (it ends "inaccurate" on most points there), so the batched
bracket, not Clarabel's value, is the sharper truth.

    python benchmarks/label_throughput.py --quick      # a few hundred points per level
    python benchmarks/label_throughput.py              # 10^4 points per level (slow baselines
                                                       # are timed on a subsample)
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

import numpy as np  # noqa: E402

from chshml import geometry as g  # noqa: E402
from chshml.npa import label_points  # noqa: E402
from chshml.npa.gauge import GaugeProblem  # noqa: E402
from chshml.npa.labelling import decide  # noqa: E402
from chshml.npa.words import moment_map  # noqa: E402

LEVELS = ("1", "1+AB", "2", "3", "4")
#: Levels whose compiled-Clarabel comparison runs on the subsample only (0.9 CPU-s a point).
SLOW_REFERENCE = ("4",)


def sample_points(n: int, seed: int) -> np.ndarray:
    """Half uniform NS behaviours, half random points of the nonlocal simplices (8-D)."""
    rng = np.random.default_rng(seed)
    out = np.empty((0, 8))
    while len(out) < n // 2:
        q = rng.uniform(-1, 1, (40 * n, 8))
        out = np.vstack([out, q[(q @ g.NS_FACETS_G.T <= 1).all(axis=1)]])
    verts = [g.nonlocal_simplex_vertices(f) for f in range(8)]
    simplex = np.array([rng.dirichlet(np.full(9, 0.5)) @ verts[f]
                        for f in rng.integers(0, 8, n - n // 2)])
    return np.vstack([out[: n // 2], simplex])


def naive(points: np.ndarray, level: str) -> np.ndarray:
    """A new cvxpy problem per point (compiled from scratch every time)."""
    return np.array([GaugeProblem(level, "CLARABEL").solve(p).lam for p in points])


def compiled(points: np.ndarray, level: str) -> tuple[np.ndarray, ...]:
    """Compiled cvxpy + Clarabel: ``lam``, its certified bracket and the status per point."""
    prob = GaugeProblem(level, "CLARABEL")
    sols = [prob.solve(p) for p in points]
    return (np.array([s.lam for s in sols]), np.array([s.lam_lo for s in sols]),
            np.array([s.lam_hi for s in sols]), np.array([s.status for s in sols]))


class ClarabelAPI:
    """``max lam s.t. svec(I + lam A_p + sum y_k G_k) in PSD, lam G_ns p <= h`` via clarabel."""

    def __init__(self, level: str) -> None:
        import clarabel
        import scipy.sparse as sp

        self.clarabel, self.sp = clarabel, sp
        mm = moment_map(level)
        m = mm.size
        self.m = m
        # Clarabel's PSD triangle: upper triangle by columns, off-diagonals scaled by sqrt 2
        jj, ii = np.tril_indices(m)  # column-major upper triangle: (row ii <= col jj)
        self.ii, self.jj = ii, jj
        self.scale = np.where(ii == jj, 1.0, np.sqrt(2.0))
        self.Fs = np.array([mm.F[c][ii, jj] * self.scale for c in range(8)])  # (8, t)
        Gs = np.array([mm.G[k][ii, jj] * self.scale for k in range(mm.n_free)]).reshape(
            mm.n_free, len(ii))
        self.b_psd = np.where(ii == jj, 1.0, 0.0)
        self.G_cols = -Gs.T
        self.n = 1 + mm.n_free
        self.cones = [clarabel.PSDTriangleConeT(m), clarabel.NonnegativeConeT(16)]
        self.P = sp.csc_matrix((self.n, self.n))
        self.q = np.zeros(self.n)
        self.q[0] = -1.0
        self.b = np.concatenate([self.b_psd, g.NS_FACETS_H])
        self.settings = clarabel.DefaultSettings()
        self.settings.verbose = False

    def solve(self, p: np.ndarray) -> float:
        col0 = np.concatenate([-(p @ self.Fs), g.NS_FACETS_G @ p])
        rest = np.vstack([self.G_cols, np.zeros((16, self.n - 1))])
        A = self.sp.csc_matrix(np.column_stack([col0, rest]))
        solver = self.clarabel.DefaultSolver(self.P, self.q, A, self.b, self.cones,
                                             self.settings)
        return float(solver.solve().x[0])


def clarabel_api(points: np.ndarray, level: str) -> np.ndarray:
    api = ClarabelAPI(level)
    return np.array([api.solve(p) for p in points])


def timed(fn, *args) -> tuple[float, object]:
    start = time.process_time()
    out = fn(*args)
    return time.process_time() - start, out


def _batched_chunk(args: tuple[np.ndarray, str]) -> int:
    points, level = args
    return len(label_points(points, level).lam)


def all_cores(points: np.ndarray, level: str, workers: int) -> float:
    """Points per wall second of the batched labeller with one process per core."""
    chunks = np.array_split(points, workers)
    import multiprocessing

    # spawn, not fork: forking a process that already ran cvxpy/Clarabel threads can deadlock
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_batched_chunk, [(c[:8], level) for c in chunks]))  # warm up imports
        start = time.perf_counter()
        done = sum(pool.map(_batched_chunk, [(c, level) for c in chunks]))
        return done / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few hundred points per level")
    parser.add_argument("--n", type=int, default=None, help="points per level (batched)")
    parser.add_argument("--levels", default=",".join(LEVELS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-cores", action="store_true", help="skip the all-cores run")
    args = parser.parse_args()
    n = args.n or (300 if args.quick else 10_000)
    levels = [lv.strip() for lv in args.levels.split(",")]
    # baselines are slow: time them on a subsample (the batched engine runs on all n points,
    # and the lam check compares it with compiled Clarabel on all n points)
    sub = {"1": 300, "1+AB": 300, "2": 200, "3": 60, "4": 20} if args.quick else {
        "1": 1000, "1+AB": 1000, "2": 500, "3": 200, "4": 100}
    workers = os.cpu_count() or 1
    warnings.simplefilter("ignore")
    rows = []
    for level in levels:
        pts = sample_points(n, args.seed)
        k = min(sub.get(level, 100), n)
        t_naive, _ = timed(naive, pts[:k], level)
        t_api, _ = timed(clarabel_api, pts[:k], level)
        t_batch, res = timed(label_points, pts, level)
        k_comp = k if level in SLOW_REFERENCE else n
        t_comp, (lam_c, lo_c, hi_c, status_c) = timed(compiled, pts[:k_comp], level)
        if k_comp < n:  # compare the batched result on the same subsample
            pad = np.full(n - k_comp, np.nan)
            lam_c, lo_c, hi_c = (np.concatenate([v, pad]) for v in (lam_c, lo_c, hi_c))
            status_c = np.concatenate([status_c, np.full(n - k_comp, "skipped")])
        width_c = hi_c - lo_c
        diff = np.abs(res.lam - lam_c)
        finite = np.isfinite(lam_c) & np.isfinite(res.lam)
        bad_lam = int(np.sum(diff[finite] > 1e-8 + np.nan_to_num(width_c[finite], posinf=0)))
        # both brackets are rigorous, so they must intersect (up to rounding): the largest
        # gap between them is 0 unless one of the two engines is wrong
        # where Clarabel itself reports "optimal" its value alone is the reference
        opt = finite & (status_c == "CLARABEL:optimal")
        dmax_opt = float(np.max(diff[opt], initial=0.0))
        apart = float(np.max(np.maximum(0.0, np.maximum(lo_c, res.lam_lo)
                                        - np.minimum(hi_c, res.lam_hi))[finite], initial=0.0))
        width_b = float(np.max(((res.lam_hi - res.lam_lo) / np.maximum(1.0, res.lam))[
            np.isfinite(res.lam)], initial=0.0))
        lbl_c = decide(lam_c, width_c, res.tol)
        both = (lbl_c >= 0) & (res.label >= 0)
        bad_label = int(np.sum(lbl_c[both] != res.label[both]))
        inaccurate_b = int(np.sum(np.char.find(res.status.astype(str), "inaccurate") >= 0))
        fallback = int(np.sum(np.char.find(res.status.astype(str), ">") >= 0))
        per = {"naive": t_naive / k, "compiled": t_comp / k_comp, "clarabel": t_api / k,
               "batched": t_batch / n}
        cores = all_cores(pts, level, workers) if not args.no_cores and workers > 1 else None
        inaccurate_c = int(np.sum(np.char.find(status_c, "inaccurate") >= 0))
        rows.append((level, n, per, cores, float(diff[finite].max()), bad_lam, bad_label,
                     inaccurate_b, fallback, inaccurate_c, apart, width_b, t_batch, dmax_opt,
                     int(opt.sum())))
        print(f"level {level}: done ({n} points)", flush=True)

    print()
    print(f"points per CPU-second (single-threaded); ratio = x naive; all-cores: {workers} "
          f"processes, points per wall-second")
    head = (f"{'level':>6} {'naive':>8} {'compiled':>9} {'clarabel':>9} {'batched':>9} "
            f"{'ratio':>7} {'ms/pt':>7} {'all-cores':>10}")
    print(head)
    for level, _n, per, cores, *_ in rows:
        rate = {k: 1.0 / v for k, v in per.items()}
        print(f"{level:>6} {rate['naive']:8.0f} {rate['compiled']:9.0f} {rate['clarabel']:9.0f} "
              f"{rate['batched']:9.0f} {rate['batched'] / rate['naive']:7.1f} "
              f"{per['batched'] * 1e3:7.3f} {(f'{cores:10.0f}' if cores else '         -')}")
    print()
    print("agreement with compiled Clarabel on every point: max|dlam|; max|dlam| where "
          "Clarabel reports optimal (and on how many points); lam>tol = points with "
          "|dlam| > 1e-8 + Clarabel's certified bracket width; apart = largest gap between the "
          "batched and Clarabel's certified brackets (0: they always intersect); width = largest "
          "relative certified "
          "width of the batched bracket; label!= = labels that differ where both are decided")
    head = (f"{'level':>6} {'points':>7} {'CPU s':>7} {'max|dlam|':>10} {'(optimal)':>10} "
            f"{'on':>6} {'lam>tol':>8} "
            f"{'apart':>9} {'width':>9} {'label!=':>8} {'fallback':>8} {'inacc(b)':>8} "
            f"{'inacc(c)':>8}")
    print(head)
    for (level, n_pts, _per, _cores, dmax, bad_lam, bad_label, inacc, fb, inacc_c, apart,
         width_b, t_batch, dmax_opt, n_opt) in rows:
        print(f"{level:>6} {n_pts:7d} {t_batch:7.2f} {dmax:10.2e} {dmax_opt:10.2e} {n_opt:6d} "
              f"{bad_lam:8d} {apart:9.1e} "
              f"{width_b:9.1e} {bad_label:8d} {fb:8d} {inacc:8d} {inacc_c:8d}")
    print("ratios vs naive: " + "; ".join(
        f"{lv}: compiled {per['naive'] / per['compiled']:.1f}x, clarabel API "
        f"{per['naive'] / per['clarabel']:.1f}x, batched {per['naive'] / per['batched']:.1f}x"
        for lv, _n, per, *_ in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
