"""Labelling behaviours with the NPA gauge: ``lam``, a certified bracket, a label and a status.

A label is 1 (in ``Q_n``), 0 (not) or -1 (undecided: no certified bracket, or ``lam``
within ``tol`` of 1). A solve is accepted only if its certified bracket is narrower than
``tol / 2``; otherwise the fallback solver is tried, and failing that the label is -1.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from chshml.npa.gauge import GaugeProblem, GaugeSolution, as_behaviours
from chshml.npa.solvers import fallback_solver, resolve_solver
from chshml.npa.words import normalise_level
from chshml.progress import Progress

DEFAULT_TOL = 1e-6


@dataclass
class LabelResult:
    """Per-point gauge, bracket, label, status and (for label 0) the separating functional."""

    level: str
    solver: str
    tol: float
    lam: np.ndarray
    lam_lo: np.ndarray
    lam_hi: np.ndarray
    label: np.ndarray
    status: np.ndarray
    witness_beta: np.ndarray
    witness_beta0: np.ndarray
    cpu_seconds: float = 0.0
    extra: dict = field(default_factory=dict)


def decide(lam: np.ndarray, width: np.ndarray, tol: float) -> np.ndarray:
    """Label from a gauge: 1 if ``lam >= 1 + tol``, 0 if ``lam <= 1 - tol``, else -1.

    A bracket wider than ``tol / 2`` (or a missing value) is undecided whatever ``lam`` says.
    """
    lam = np.asarray(lam, dtype=float)
    label = np.full(lam.shape, -1, dtype=np.int8)
    certified = np.isfinite(width) & (width <= tol / 2) | np.isinf(lam) & (lam > 0)
    label[certified & (lam >= 1 + tol)] = 1
    label[certified & (lam <= 1 - tol)] = 0
    return label


class Labeller:
    """Solve gauges point by point with one compiled problem per solver (fallback lazily)."""

    def __init__(self, level: str, solver: str = "auto", tol: float = DEFAULT_TOL) -> None:
        self.level = normalise_level(level)
        self.solver = resolve_solver(solver)
        self.tol = float(tol)
        self._problems: dict[str, GaugeProblem] = {}

    def problem(self, solver: str) -> GaugeProblem:
        if solver not in self._problems:
            self._problems[solver] = GaugeProblem(self.level, solver)
        return self._problems[solver]

    def solve(self, p: np.ndarray) -> GaugeSolution:
        """The certified gauge of one 8-D behaviour, retrying with the fallback solver."""
        first = self.problem(self.solver).solve(p)
        if first.status == "origin" or first.width <= self.tol / 2:
            return first
        second = self.problem(fallback_solver(self.solver)).solve(p)
        if second.width < first.width:
            second.status = f"{first.status}>retry:{second.status}"
            return second
        first.status = f"{first.status}>retry-failed:{second.status}"
        return first


def label_points(points: np.ndarray, level: str, solver: str = "auto",
                 tol: float = DEFAULT_TOL, progress: bool = False) -> LabelResult:
    """Gauge and label 4-D or 8-D behaviours at an NPA level (see module docstring)."""
    behaviours = as_behaviours(points)
    labeller = Labeller(level, solver, tol)
    n = len(behaviours)
    lam, lo, hi = np.empty(n), np.empty(n), np.empty(n)
    status = np.empty(n, dtype=object)
    beta = np.full((n, 8), np.nan)
    beta0 = np.full(n, np.nan)
    meter = Progress(n, f"label level {labeller.level}", enabled=progress)
    start = time.process_time()
    for i, p in enumerate(behaviours):
        sol = labeller.solve(p)
        lam[i], lo[i], hi[i], status[i] = sol.lam, sol.lam_lo, sol.lam_hi, sol.status
        if sol.witness is not None and sol.lam_hi < 1:
            beta[i], beta0[i] = sol.witness.beta, sol.witness.beta0
        meter.update()
    cpu = time.process_time() - start
    label = decide(lam, hi - lo, labeller.tol)
    return LabelResult(labeller.level, labeller.solver, labeller.tol, lam, lo, hi, label,
                       status.astype(str), beta, beta0, cpu)
