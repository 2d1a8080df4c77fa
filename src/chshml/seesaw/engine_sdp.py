"""Steered see-saw as in the paper (Sec. III C, Eq. 8): every convex step is an SDP (cvxpy).

Problems are compiled once per local dimension with cvxpy Parameters (DPP), so each step only
updates parameters and re-solves. Each SDP solution is projected onto the feasible set (density
matrices, ``-I <= A <= I``) before use, so every distance reported is that of a valid realisation.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from chshml.seesaw._common import EngineResult, alice_targets, bob_targets, state_operators
from chshml.seesaw.engine_fast import lm_polish
from chshml.seesaw.realisation import (
    behaviour,
    project_observables,
    project_states,
    reduced_operators,
    reduced_operators_bob,
)

#: Tight tolerances: the objective is the distance itself, driven towards 1e-7.
SOLVER_OPTIONS = {
    "CLARABEL": {"tol_gap_abs": 1e-11, "tol_gap_rel": 1e-11, "tol_feas": 1e-11,
                 "tol_ktratio": 1e-9},
    "SCS": {"eps_abs": 1e-10, "eps_rel": 1e-10, "max_iters": 20000},
}


@dataclass
class SdpOptions:
    """Iteration budget, stopping rules and solver of the SDP engine."""

    max_iter: int = 300           # outer (state, Alice, Bob) iterations per instance
    stall_window: int = 30        # outer iterations over which progress is measured
    stall_ratio: float = 0.99     # stalled if the distance fell by less than 1 % over the window
    solver: str = "CLARABEL"
    polish: bool = False          # finish with the fast engine's Levenberg-Marquardt polish


class _Problems:
    """The two parametrised SDPs of one local dimension: state step and observable step."""

    def __init__(self, dim: int) -> None:
        import cvxpy as cp

        big = dim * dim
        self.rho = cp.Variable((big, big), symmetric=True)
        self.ops = cp.Parameter((8, big * big))
        self.p = cp.Parameter(8)
        q = self.ops @ cp.vec(self.rho, order="C")
        self.state = cp.Problem(cp.Minimize(cp.norm(q - self.p, 2)),
                                [self.rho >> 0, cp.trace(self.rho) == 1])
        # One observable step serves Alice and Bob: min sum_x sum_j (tr(X_x M_j) - t_xj)^2.
        eye = np.eye(dim)
        self.obs = [cp.Variable((dim, dim), symmetric=True) for _ in range(2)]
        self.m = cp.Parameter((3, dim * dim))
        self.t = cp.Parameter((2, 3))
        resid = [self.m @ cp.vec(x, order="C") - self.t[i] for i, x in enumerate(self.obs)]
        cons = [c for x in self.obs for c in (eye - x >> 0, eye + x >> 0)]
        self.observable = cp.Problem(cp.Minimize(cp.norm(cp.hstack(resid), 2)), cons)

    def solve_state(self, p: np.ndarray, ops: np.ndarray, solver: str) -> np.ndarray | None:
        self.ops.value = ops.reshape(8, -1)
        self.p.value = p
        return self._solve(self.state, [self.rho], solver)

    def solve_observables(self, t: np.ndarray, m: np.ndarray, solver: str) -> np.ndarray | None:
        self.m.value = m.reshape(3, -1)
        self.t.value = t
        out = self._solve(self.observable, self.obs, solver)
        return None if out is None else np.array(out)

    @staticmethod
    def _solve(problem: Any, variables: list[Any], solver: str) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                problem.solve(solver=solver, warm_start=False,
                              **SOLVER_OPTIONS.get(solver, {}))
        except Exception:  # solver failure: the caller keeps the previous iterate
            return None
        if problem.status not in ("optimal", "optimal_inaccurate"):
            return None
        vals = [v.value for v in variables]
        return vals[0] if len(vals) == 1 else vals


@lru_cache(maxsize=8)
def _problems(dim: int) -> _Problems:
    return _Problems(dim)


def _one(p: np.ndarray, a: np.ndarray, b: np.ndarray, threshold: float,
         opt: SdpOptions) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, int, str]:
    d = a.shape[-1]
    prob = _problems(d)
    rho = np.eye(d * d) / (d * d)
    history: list[float] = []
    dist = np.inf
    for it in range(opt.max_iter):
        new = prob.solve_state(p, state_operators(a[None], b[None])[0], opt.solver)
        if new is not None:
            rho = project_states(new)
        rho_a, ka = reduced_operators(rho, b)
        new = prob.solve_observables(alice_targets(p[None])[0],
                                     np.concatenate([rho_a[None], ka]), opt.solver)
        if new is not None:
            a = project_observables(new)
        rho_b, kb = reduced_operators_bob(rho, a)
        new = prob.solve_observables(bob_targets(p[None])[0],
                                     np.concatenate([rho_b[None], kb]), opt.solver)
        if new is not None:
            b = project_observables(new)
        dist = float(np.linalg.norm(behaviour(rho, a, b) - p))
        history.append(dist)
        if dist < threshold:
            return dist, rho, a, b, it + 1, "threshold"
        if (len(history) > opt.stall_window
                and dist > opt.stall_ratio * history[-1 - opt.stall_window]):
            return dist, rho, a, b, it + 1, "stalled"
    return dist, rho, a, b, opt.max_iter, "max_iter"


def seesaw_sdp(targets: np.ndarray, a0: np.ndarray, b0: np.ndarray, threshold: float = 1e-7,
               options: SdpOptions | None = None) -> EngineResult:
    """Steered see-saw with SDP steps, instance by instance (same interface as the fast engine);
    with ``options.polish`` unfinished instances get the fast engine's LM polish.
    """
    opt = options or SdpOptions()
    p = np.asarray(targets, dtype=float).reshape(-1, 8)
    a0 = np.asarray(a0, dtype=float)
    b0 = np.asarray(b0, dtype=float)
    n, _, d, _ = a0.shape
    out = [_one(p[i], a0[i].copy(), b0[i].copy(), threshold, opt) for i in range(n)]
    res = EngineResult(
        distance=np.array([o[0] for o in out]),
        state=np.array([o[1] for o in out]).reshape(n, d * d, d * d),
        a=np.array([o[2] for o in out]), b=np.array([o[3] for o in out]),
        iterations=np.array([o[4] for o in out], dtype=np.int64),
        reason=np.array([o[5] for o in out], dtype=object),
    )
    todo = np.flatnonzero(res.distance >= threshold)
    if opt.polish and len(todo):
        dist, rho, a, b = lm_polish(p[todo], res.state[todo], res.a[todo], res.b[todo],
                                    threshold)
        better = dist < res.distance[todo]
        sel = todo[better]
        res.distance[sel], res.state[sel], res.a[sel], res.b[sel] = (
            dist[better], rho[better], a[better], b[better])
        res.reason[sel[dist[better] < threshold]] = "polished"
    res.reason = res.reason.astype(str)
    return res
