"""The NPA gauge along a ray: ``lam(p) = max lam s.t. lam p in Q_n ∩ NS``, compiled once.

One cvxpy problem with the behaviour as a Parameter (DPP) serves every point of a level;
each solve is bracketed by :mod:`chshml.npa.certificate`, so an answer is accepted from
the certified interval ``[lam_lo, lam_hi]``, never from the solver's status string alone.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from chshml.geometry import NS_FACETS_G, NS_FACETS_H, to_full
from chshml.npa.certificate import Witness, inner_gauge, outer_gauge, witness_from_dual
from chshml.npa.words import MomentMap, moment_map

#: Solver options per cvxpy solver name (tight enough for a 1e-8 bracket on small SDPs).
SOLVER_OPTIONS: dict[str, dict] = {
    "CLARABEL": {},
    "SCS": {"eps_abs": 1e-10, "eps_rel": 1e-10, "max_iters": 200_000},
    "MOSEK": {},
}


@dataclass
class GaugeSolution:
    """One solved gauge: the solver's value, the certified bracket and the dual functional."""

    lam: float
    lam_lo: float
    lam_hi: float
    status: str
    witness: Witness | None

    @property
    def width(self) -> float:
        """Width ``lam_hi - lam_lo`` of the certified bracket."""
        return self.lam_hi - self.lam_lo


class GaugeProblem:
    """``max lam s.t. Gamma(x, y) >= 0, G_ns x <= h, x = lam p`` with ``p`` a Parameter.

    Parameters
    ----------
    level : str
        The NPA level (any spelling :func:`chshml.npa.words.parse_level` accepts).
    solver : str, optional
        cvxpy solver name: ``"CLARABEL"``, ``"SCS"`` or ``"MOSEK"``.
    """

    def __init__(self, level: str, solver: str = "CLARABEL") -> None:
        import cvxpy as cp

        self.mm: MomentMap = moment_map(level)
        self.solver = solver
        mm = self.mm
        m = mm.size
        self.p = cp.Parameter(8)
        self.lam = cp.Variable()
        self.x = cp.Variable(8)
        self.y = cp.Variable(mm.n_free) if mm.n_free else None
        basis = np.concatenate([mm.F, mm.G]).reshape(8 + mm.n_free, m * m).T
        z = self.x if self.y is None else cp.hstack([self.x, self.y])
        gamma = cp.reshape(basis @ z, (m, m), order="F") + np.eye(m)
        self.psd = gamma >> 0
        self.ns = NS_FACETS_G @ self.x <= NS_FACETS_H
        self.problem = cp.Problem(
            cp.Maximize(self.lam), [self.psd, self.ns, self.x == self.lam * self.p]
        )

    def solve(self, p: np.ndarray) -> GaugeSolution:
        """Solve for one 8-D behaviour ``p`` and bracket the result.

        Parameters
        ----------
        p : ndarray, shape (8,)
            The behaviour (the ray's direction).

        Returns
        -------
        GaugeSolution
            The solver's ``lam`` and the certified ``[lam_lo, lam_hi]`` with its witness;
            ``lam = inf`` at the origin, NaN with ``[0, inf]`` if the solver fails.
        """
        import cvxpy as cp

        p = np.asarray(p, dtype=float)
        if not np.any(np.abs(p) > 1e-300):
            return GaugeSolution(np.inf, np.inf, np.inf, "origin", None)
        self.p.value = p
        try:
            with warnings.catch_warnings():  # "inaccurate" is judged by the bracket below
                warnings.simplefilter("ignore", UserWarning)
                self.problem.solve(solver=self.solver, **SOLVER_OPTIONS.get(self.solver, {}))
        except cp.error.SolverError as err:
            return GaugeSolution(np.nan, 0.0, np.inf, f"{self.solver}:error:{err}"[:200], None)
        status = f"{self.solver}:{self.problem.status}"
        if self.lam.value is None or self.psd.dual_value is None:
            return GaugeSolution(np.nan, 0.0, np.inf, status, None)
        lam = float(self.lam.value)
        y = np.zeros(0) if self.y is None else np.asarray(self.y.value, dtype=float)
        lam_lo = inner_gauge(self.mm, p, lam, y)
        witness = witness_from_dual(self.mm, np.asarray(self.psd.dual_value),
                                    np.asarray(self.ns.dual_value))
        lam_hi = outer_gauge(witness, p)
        return GaugeSolution(lam, lam_lo, max(lam_hi, lam_lo), status, witness)


def as_behaviours(points: np.ndarray) -> np.ndarray:
    """8-D behaviours from 4-D or 8-D input rows.

    Parameters
    ----------
    points : array_like, shape (n, 4) or (n, 8), or one point
        Correlators (marginals zero) or full behaviours.

    Returns
    -------
    ndarray, shape (n, 8)
        Float behaviours.
    """
    return to_full(np.atleast_2d(np.asarray(points, dtype=float)))
