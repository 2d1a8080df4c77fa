"""Membership in the convex hull of atoms: fully corrective Frank-Wolfe (column generation)
with an NNLS master, a Gauss-Newton refinement on the atoms, and Caratheodory reduction.

``p`` is in ``Q = conv(atoms)`` iff ``(p, 1)`` is in the cone of the lifted atoms ``(q, 1)``.
The master problem ``min ||sum_i w_i (q_i, 1) - (p, 1)||``, ``w >= 0``, over the atoms found
so far is an NNLS; its residual ``r`` is the pricing direction: a new atom improves the
master iff ``r . (q, 1) > 0``, so the oracle maximises ``r[:8] . q``. If the best atom does
not improve, the current inner point is the closest point of ``Q`` to ``p`` (as far as the
oracle's local search can tell) and the residual is the gap.

Points on or near the curved boundary of ``Q`` are reached only asymptotically by adding
atoms, so once the residual is small the support atoms themselves are moved: a Gauss-Newton
solve over (states, angles, square-root weights) of ``sum_i u_i^2 p(atom_i) = p``,
``sum_i u_i^2 = 1`` (an underdetermined system; minimum-norm steps). Whatever produced a
decomposition, it is accepted only after its behaviours are recomputed from the stored
states and angles and reproduce ``p`` to ``RECON_TOL`` in every coordinate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

from chshml.certify.atoms import behaviours
from chshml.certify.oracle import QubitOracle

#: Largest reconstruction error (every coordinate) of an accepted decomposition.
RECON_TOL = 1e-9
#: Caratheodory bound in the lifted 9-D space: at most this many atoms are stored.
MAX_ATOMS = 9


@dataclass
class Decomposition:
    """``p = sum_i weights_i p(states_i, angles_i)`` with ``weights >= 0`` summing to 1."""

    weights: np.ndarray
    states: np.ndarray
    angles: np.ndarray
    error: float

    @property
    def n_atoms(self) -> int:
        return len(self.weights)


@dataclass
class HullResult:
    """Outcome for one point: a decomposition (or None), the gap and the work done.

    ``gap``: Euclidean distance from ``p`` to the best point of the inner hull found (an upper
    bound on the distance from ``p`` to the hull of the atoms found; 0 if decomposed).
    """

    decomposition: Decomposition | None
    gap: float
    iterations: int
    reason: str


def check(p: np.ndarray, weights: np.ndarray, states: np.ndarray, angles: np.ndarray
          ) -> float:
    """Max-coordinate reconstruction error of a candidate (inf if not a valid mixture)."""
    w = np.asarray(weights, dtype=float)
    if len(w) == 0 or np.any(w < 0) or abs(w.sum() - 1.0) > 1e-12:
        return np.inf
    if np.any(np.abs(np.linalg.norm(states, axis=1) - 1.0) > 1e-12):
        return np.inf
    return float(np.abs(w @ behaviours(states, angles) - p).max())


def caratheodory(lifted: np.ndarray, w: np.ndarray, limit: int = MAX_ATOMS) -> np.ndarray:
    """Weights on at most ``limit`` columns with the same ``lifted @ w`` (``lifted``: 9 x k).

    While the support has more columns than ``limit`` (or is linearly dependent), move along a
    null vector of the support columns until a weight reaches zero.
    """
    w = np.array(w, dtype=float)
    while True:
        sup = np.flatnonzero(w > 0)
        if len(sup) <= limit:
            cols = lifted[:, sup]
            if len(sup) == 0 or np.linalg.matrix_rank(cols, tol=1e-12) == len(sup):
                return w
        _, _, vt = np.linalg.svd(lifted[:, sup])
        v = vt[-1]
        if not np.any(v > 1e-15):
            v = -v
        pos = v > 1e-15
        t = np.min(w[sup][pos] / v[pos])
        w[sup] = w[sup] - t * v
        w[sup[pos][np.argmin(w[sup][pos] / np.maximum(v[pos], 1e-300))]] = 0.0
        w[w < 1e-300] = 0.0


def refine(p: np.ndarray, weights: np.ndarray, states: np.ndarray, angles: np.ndarray,
           iterations: int = 12, h: float = 1e-7) -> Decomposition | None:
    """Gauss-Newton on (states, angles, sqrt-weights) to reproduce ``p`` exactly.

    Unknowns per atom: the unnormalised state ``v`` (4), the angles (4) and ``u`` with weight
    ``u^2`` (so weights stay >= 0). Residual: ``sum u^2 q(v/|v|, angles) - p`` and
    ``sum u^2 - 1``. Jacobian by central differences; minimum-norm least-squares steps.
    """
    k = len(weights)
    x = np.concatenate([np.asarray(states, float), np.asarray(angles, float),
                        np.sqrt(np.maximum(weights, 0.0))[:, None]], axis=1).ravel()

    def resid(xs: np.ndarray) -> np.ndarray:
        """Residuals of stacked parameter vectors ``xs`` (m, 9k) -> (m, 9)."""
        a = xs.reshape(len(xs), k, 9)
        v = a[..., :4] / np.linalg.norm(a[..., :4], axis=-1, keepdims=True)
        q = behaviours(v, a[..., 4:8])                       # (m, k, 8)
        w = a[..., 8] ** 2
        return np.concatenate([np.einsum("mk,mki->mi", w, q) - p,
                               (w.sum(axis=1) - 1.0)[:, None]], axis=1)

    eye = np.eye(9 * k) * h
    best = None
    for _ in range(iterations):
        r = resid(x[None])[0]
        err = np.abs(r).max()
        if best is None or err < best[0]:
            best = (err, x.copy())
        if err <= 1e-14:
            break
        plus, minus = resid(x + eye), resid(x - eye)
        jac = ((plus - minus) / (2 * h)).T                   # (9, 9k)
        step = np.linalg.lstsq(jac, -r, rcond=None)[0]
        x = x + step
    a = best[1].reshape(k, 9)
    st = a[:, :4] / np.linalg.norm(a[:, :4], axis=1, keepdims=True)
    ang = np.mod(a[:, 4:8], 2 * np.pi)
    w = a[:, 8] ** 2
    w = w / w.sum()
    keep = w > 0
    st, ang, w = st[keep], ang[keep], w[keep]
    err = check(p, w, st, ang)
    return Decomposition(w, st, ang, err) if err <= RECON_TOL else None


class HullSolver:
    """Decompose behaviours into atoms by column generation (see module docstring)."""

    def __init__(self, oracle: QubitOracle | None = None, max_iter: int = 150,
                 refine_below: float = 1e-3, refine_every: int = 5, max_columns: int = 60
                 ) -> None:
        self.oracle = oracle or QubitOracle()
        self.max_iter = int(max_iter)
        self.refine_below = float(refine_below)
        self.refine_every = int(refine_every)
        self.max_columns = int(max_columns)

    def decompose(self, p: np.ndarray, pool: tuple[np.ndarray, np.ndarray] | None = None
                  ) -> HullResult:
        """Find ``p`` as a mixture of at most 9 atoms, or report the inner-hull gap.

        ``pool`` = (states, angles) of atoms to start from; the 16 deterministic atoms are
        always included.
        """
        p = np.asarray(p, dtype=float)
        states = [self.oracle.det_states]
        angles = [self.oracle.det_angles]
        if pool is not None and len(pool[0]):
            states.append(pool[0])
            angles.append(pool[1])
        S, A = np.vstack(states), np.vstack(angles)
        Q = behaviours(S, A)
        target = np.append(p, 1.0)
        gap = np.inf
        last_refine = -self.refine_every
        for it in range(self.max_iter):
            lifted = np.vstack([Q.T, np.ones(len(Q))])
            w, _ = nnls(lifted, target, maxiter=50 * len(Q))
            r = target - lifted @ w
            # distance from p to a point of the inner hull (the master's, renormalised)
            gap = float(np.linalg.norm(p - Q.T @ w / w.sum())) if w.sum() > 0 else np.inf
            sup = np.flatnonzero(w > 0)
            if np.abs(r).max() <= 1e-13 or (np.linalg.norm(r) <= self.refine_below
                                            and it - last_refine >= self.refine_every):
                last_refine = it
                dec = self._finish(p, lifted, w, S, A)
                if dec is not None:
                    return HullResult(dec, 0.0, it, "decomposed")
            found = self.oracle.maximise(r[:8], warm=A[sup])
            # improving iff r . (q, 1) > 0 (at the master's optimum r . (q_i, 1) <= 0 for
            # every column, with equality on the support)
            improving = found.values + r[8] > 1e-15 * max(1.0, gap)
            if not improving.any():
                return HullResult(None, gap, it, "no improving atom")
            # keep the support and the newest columns
            keep = np.union1d(sup, np.arange(max(0, len(Q) - self.max_columns), len(Q)))
            keep = np.union1d(keep, np.arange(16))
            S = np.vstack([S[keep], found.states[improving]])
            A = np.vstack([A[keep], found.angles[improving]])
            Q = np.vstack([Q[keep], found.points[improving]])
        return HullResult(None, gap, self.max_iter, "iteration budget")

    @staticmethod
    def _finish(p: np.ndarray, lifted: np.ndarray, w: np.ndarray, S: np.ndarray,
                A: np.ndarray) -> Decomposition | None:
        """Caratheodory-reduce the master's solution, then polish it on its support."""
        w = caratheodory(lifted, w)
        sup = np.flatnonzero(w > 0)
        dec = _exact(p, lifted[:, sup], S[sup], A[sup])
        if dec is None:
            ws = w[sup] / w[sup].sum()
            dec = refine(p, ws, S[sup], A[sup])
        return None if dec is None else prune(p, dec)


def _exact(p: np.ndarray, cols: np.ndarray, S: np.ndarray, A: np.ndarray
           ) -> Decomposition | None:
    """Solve ``cols @ w = (p, 1)`` on a fixed support; a decomposition if ``w >= 0`` fits."""
    sol, *_ = np.linalg.lstsq(cols, np.append(p, 1.0), rcond=None)
    sol[(sol < 0) & (sol > -1e-13)] = 0.0    # rounding of a zero weight
    if not np.all(sol >= 0) or sol.sum() <= 0:
        return None
    sol = sol / sol.sum()
    nz = sol > 0
    sol, S, A = sol[nz], S[nz], A[nz]
    err = check(p, sol, S, A)
    return Decomposition(sol, S, A, err) if err <= RECON_TOL else None


def prune(p: np.ndarray, dec: Decomposition, small: float = 1e-10) -> Decomposition:
    """Drop atoms of negligible weight (re-solving on the rest) while the fit still holds."""
    while dec.n_atoms > 1:
        i = int(np.argmin(dec.weights))
        if dec.weights[i] > small:
            break
        keep = np.arange(dec.n_atoms) != i
        S, A = dec.states[keep], dec.angles[keep]
        cols = np.vstack([behaviours(S, A).T, np.ones(len(S))])
        cand = _exact(p, cols, S, A)
        if cand is None or cand.error > max(dec.error, 1e-13):
            break
        dec = cand
    return dec
