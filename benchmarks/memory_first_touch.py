"""Big temporaries against in-place work: the gauge kernel and the 8-D NS rejection sampler.

On the VMs we run on (AMD EPYC and Intel Xeon seen), touching memory the VM has not used
before costs about 10 s per GB (7 s of it system time); numpy code that allocates a fresh
n x m array per operation pays it again and again. Each case runs the earlier code
(baseline, kept here verbatim) and today's in its own fresh process, in the same run, and
prints wall, user and system seconds, peak memory and the ratio baseline / today; both must
give the same numbers.

* ``predict`` — a kernel fit with 12,000 centres evaluated on 20,000 points (the report's
  hard-case curves, ``chshml evaluate`` of the 8-D gauge models);
* ``fit`` — the Gram matrix and Cholesky solve at 12,000 rows (the amplitude level set);
* ``ns`` — 200,000 uniform points of NS in 8-D by rejection (the report's vol(L)/vol(NS)).

    python benchmarks/memory_first_touch.py            # ~3 minutes, 9 GB at the peak
    python benchmarks/memory_first_touch.py --quick    # smaller sizes, ~40 s, 3.3 GB
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import multiprocessing as mp  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def _baseline_kernel(a: np.ndarray, b: np.ndarray, ell: float) -> np.ndarray:
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.exp(-np.maximum(sq, 0.0) / (2.0 * ell * ell))


def _predict(baseline: bool, n_centres: int, n_points: int) -> np.ndarray:
    from chshml.models import gauge

    rng = np.random.default_rng(0)
    centres, z = rng.normal(size=(n_centres, 16)), 0.5 * rng.normal(size=(n_points, 16))
    coef = rng.normal(size=n_centres)
    if not baseline:
        return gauge.KernelFit(centres, coef, np.zeros(153), 1.0, 1e-7)(z)
    out = np.empty(n_points)
    for s in range(0, n_points, 2048):
        out[s:s + 2048] = _baseline_kernel(z[s:s + 2048], centres, 1.0) @ coef
    return out


def _fit(baseline: bool, n: int, _: int) -> np.ndarray:
    import scipy.linalg as sla

    from chshml.models import gauge

    rng = np.random.default_rng(1)
    x, y = 0.5 * rng.normal(size=(n, 16)), rng.normal(size=n)
    if not baseline:
        return gauge.KernelFit.fit(x, y, 1.0, 1e-7).coef
    poly = np.linalg.lstsq(gauge._poly2(x), y, rcond=None)[0]
    k = _baseline_kernel(x, x, 1.0)
    k[np.diag_indices_from(k)] += 1e-7
    return sla.cho_solve(sla.cho_factor(k, overwrite_a=True), y - gauge._poly2(x) @ poly)


def _ns(baseline: bool, n: int, _: int) -> np.ndarray:
    from chshml.geometry import ns_violation
    from chshml.sampling.polytope import uniform_cube, uniform_ns

    rng = np.random.default_rng(2)
    if not baseline:
        return uniform_ns(n, 8, rng)
    out, have = [], 0
    while have < n:
        batch = uniform_cube(max(4 * (n - have) * 37, 1024), 8, rng)
        batch = batch[ns_violation(batch) <= 0]
        out.append(batch)
        have += len(batch)
    return np.concatenate(out)[:n]


CASES = {"predict": _predict, "fit": _fit, "ns": _ns}


def _measure(case: str, baseline: bool, a: int, b: int, queue) -> None:
    t0 = time.perf_counter()
    out = CASES[case](baseline, a, b)
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    queue.put((wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss / 1e6, out))


def run(case: str, baseline: bool, a: int, b: int) -> tuple:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_measure, args=(case, baseline, a, b, queue))
    proc.start()
    res = queue.get()
    proc.join()
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="sizes / 3 (fit / 2)")
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    args = ap.parse_args()
    sizes = {"predict": (12_000, 20_000), "fit": (12_000, 0), "ns": (200_000, 0)}
    if args.quick:
        sizes = {"predict": (4_000, 7_000), "fit": (6_000, 0), "ns": (70_000, 0)}
    print(f"{'case':8s} {'code':9s} {'wall s':>7s} {'user s':>7s} {'sys s':>7s} {'peak GB':>8s}")
    for case in args.cases:
        rows = {}
        for label, baseline in (("baseline", True), ("today", False)):
            rows[label] = run(case, baseline, *sizes[case])
            wall, user, sys_, peak, _ = rows[label]
            print(f"{case:8s} {label:9s} {wall:7.1f} {user:7.1f} {sys_:7.1f} {peak:8.2f}",
                  flush=True)
        same = np.array_equal(rows["baseline"][4], rows["today"][4])
        print(f"{case:8s} wall ratio baseline / today: "
              f"{rows['baseline'][0] / rows['today'][0]:.1f}x; same numbers: {same}")


if __name__ == "__main__":
    main()
