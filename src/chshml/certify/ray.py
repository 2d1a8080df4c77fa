"""A certified bracket on the gauge of Q itself along rays: ``t_lo <= t_Q(u) <= t_hi``.

``t_Q(u) = max{t : t u in Q}``. Outer: the NPA gauge's certified upper end ``lam_hi`` at
level ``L`` (``Q`` is inside ``Q_L``). Inner: ``t = t_hi (1 - delta)`` for the smallest
``delta`` of a ladder for which ``t u`` has an explicit decomposition into two-qubit atoms
(:mod:`chshml.certify.hull`), i.e. is certified in Q. The ladder is walked from coarse to
fine, each step warm-started with the atoms of the previous one, and stops at the first
failure; the relative width of the bracket is the last ``delta`` that succeeded.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from chshml.appendix_a import APPENDIX_A_CUTS
from chshml.certify.hull import HullSolver
from chshml.certify.oracle import QubitOracle
from chshml.npa.batched import BatchedGauge
from chshml.npa.gauge import as_behaviours
from chshml.progress import Progress

#: Relative offsets below the NPA bound tried for the inner (decomposed) point, coarse first.
DELTAS = (1e-1, 1e-3, 1e-5, 1e-7, 1e-8, 1e-9, 1e-10)


@dataclass
class RayBracket:
    """Per ray: ``t_lo <= t_Q <= t_hi`` and the number of atoms at the inner point."""

    t_lo: np.ndarray
    t_hi: np.ndarray
    n_atoms: np.ndarray
    npa_certified: np.ndarray


def q_gauge_bracket(directions: np.ndarray, level: str = "4", max_iter: int = 60,
                    seed: int = 0, progress: bool = False) -> RayBracket:
    """Certified bracket on ``t_Q`` for each row of ``directions`` (4-D or 8-D)."""
    U = as_behaviours(directions)
    n = len(U)
    npa = BatchedGauge(level).solve(U)
    t_hi = np.where(npa.certified, npa.lam_hi, np.inf)
    t_lo = np.zeros(n)
    n_atoms = np.zeros(n, dtype=np.int64)
    solver = HullSolver(QubitOracle(seed=seed), max_iter=max_iter)
    pool = (np.zeros((0, 4)), np.zeros((0, 4)))
    meter = Progress(n, "Q gauge brackets", enabled=progress)
    for i in range(n):
        top = npa.lam_hi[i] if np.isfinite(npa.lam_hi[i]) else npa.lam[i]
        warm = pool
        for delta in DELTAS:
            t = top * (1 - delta)
            res = solver.decompose(t * U[i], pool=warm)
            if res.decomposition is None:
                break
            dec = res.decomposition
            t_lo[i], n_atoms[i] = t, dec.n_atoms
            warm = (np.vstack([dec.states, pool[0]])[:48],
                    np.vstack([dec.angles, pool[1]])[:48])
        pool = warm
        meter.update()
    return RayBracket(t_lo, t_hi, n_atoms, npa.certified)


@dataclass
class AppendixA:
    """Distances along each ray from the ``Q_{1+AB}`` boundary to the boundary of Q.

    ``d_lo <= d <= d_hi`` with ``d = (lam_1AB - t_Q) |u|``: ``d_hi`` uses the decomposed
    inner point (so ``dist(p_b, Q) <= d_hi`` is certified), ``d_lo`` the NPA outer bound.
    """

    lam_1ab: np.ndarray
    bracket: RayBracket
    d_lo: np.ndarray
    d_hi: np.ndarray

    def counts(self, cuts: tuple[float, ...] = APPENDIX_A_CUTS) -> dict[float, tuple[int, int]]:
        """Per cut: (rays certified below it, rays not certified above it), i.e. the count
        of ``d < cut`` lies in that closed range.
        """
        return {float(c): (int(np.sum(self.d_hi < c)), int(np.sum(self.d_lo < c)))
                for c in cuts}


def appendix_a(directions: np.ndarray, level: str = "4", progress: bool = False,
               seed: int = 0) -> AppendixA:
    """Appendix A with Q itself: Q_1+AB boundary points against the certified Q boundary."""
    U = as_behaviours(directions)
    lam = BatchedGauge("1+AB").solve(U).lam
    br = q_gauge_bracket(U, level, seed=seed, progress=progress)
    norm = np.linalg.norm(U, axis=1)
    d_hi = np.maximum(lam - br.t_lo, 0.0) * norm
    d_lo = np.maximum(lam - br.t_hi, 0.0) * norm
    return AppendixA(lam, br, d_lo, d_hi)


def certify_rays_file(input_path: str | os.PathLike, output: str | os.PathLike, level: str,
                      *, seed: int = 0, progress: bool = False) -> AppendixA:
    """``chshml certify-rays``: :func:`appendix_a` on the directions of a points file, written
    atomically with the Q_1+AB gauges, the certified brackets and distances.
    """
    from chshml import __version__
    from chshml.geometry import space_of_dim
    from chshml.store import H5_SUFFIXES, check_output, load_points, write_h5

    check_output(output, [input_path], suffixes=H5_SUFFIXES)
    directions = load_points(input_path, check_ns=False)
    cpu0 = time.process_time()
    res = appendix_a(directions, level, progress=progress, seed=seed)
    data = {"points": directions, "lam_1ab": res.lam_1ab, "t_lo": res.bracket.t_lo,
            "t_hi": res.bracket.t_hi, "n_atoms": res.bracket.n_atoms,
            "npa_certified": res.bracket.npa_certified.astype(np.int8),
            "d_lo": res.d_lo, "d_hi": res.d_hi}
    attrs = {"level": level, "space": space_of_dim(directions.shape[1]), "seed": seed,
             "command": "certify-rays", "chshml_version": __version__,
             "cpu_seconds": time.process_time() - cpu0}
    write_h5(output, data, attrs)
    return res
