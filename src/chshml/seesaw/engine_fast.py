"""Fast steered see-saw: the alternating scheme of Eq. (8) with each convex step solved
approximately by warm-started FISTA (accelerated projected gradient), vectorised over instances.

Per outer iteration: the state step ``min ||q(rho) - p||`` over density matrices (projection =
eigendecomposition + simplex projection of the eigenvalues), then Alice's and Bob's steps over
``-I <= A <= I`` (projection = eigenvalue clipping). Every iterate is a valid realisation, so the
distance reported is that of a realisation one can check. An instance stops when its distance is
below the threshold, when it stalls, or at ``max_iter`` outer iterations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from chshml.linalg import eigh, eigvalsh, solve
from chshml.seesaw._common import EngineResult, alice_targets, bob_targets, state_operators
from chshml.seesaw.realisation import (
    behaviour,
    project_observables,
    project_states,
    reduced_operators,
    reduced_operators_bob,
)


@dataclass
class FastOptions:
    """Iteration budget and stopping rules of the fast engine."""

    max_iter: int = 1500          # alternating (state, Alice, Bob) iterations per instance
    round_iter: int = 50          # alternating iterations between two polishes / stall checks
    state_inner: int = 8          # FISTA steps per state step
    obs_inner: int = 8            # FISTA steps per observable step
    polish_iter: int = 30         # Levenberg-Marquardt steps per polish
    stall_ratio: float = 0.99     # stalled if a round cut the distance by less than 1 %


def _lipschitz(mats: np.ndarray) -> np.ndarray:
    """Largest eigenvalue of the Gram matrix of stacked matrices ``(n, k, m, m)``."""
    gram = np.einsum("nkab,nlab->nkl", mats, mats)
    return np.maximum(eigvalsh(gram)[:, -1], 1e-12)


def _fista(x0: np.ndarray, gradient: Callable[[np.ndarray], np.ndarray],
           project: Callable[[np.ndarray], np.ndarray], step: np.ndarray,
           iters: int) -> np.ndarray:
    """Projected gradient with Nesterov momentum (FISTA) at a fixed step, from ``x0``."""
    x, y, t = x0, x0, 1.0
    for _ in range(iters):
        x_new = project(y - step * gradient(y))
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        y = x_new + ((t - 1.0) / t_new) * (x_new - x)
        x, t = x_new, t_new
    return x


def state_step(p: np.ndarray, rho: np.ndarray, a: np.ndarray, b: np.ndarray,
               iters: int) -> np.ndarray:
    """FISTA on ``1/2 ||q(rho) - p||^2`` over density matrices, observables fixed."""
    ops = state_operators(a, b)

    def gradient(y: np.ndarray) -> np.ndarray:
        return np.einsum("nk,nkab->nab", np.einsum("nkab,nab->nk", ops, y) - p, ops)

    return _fista(rho, gradient, project_states, 1.0 / _lipschitz(ops)[:, None, None], iters)


def observable_step(targets: np.ndarray, m: np.ndarray, obs: np.ndarray,
                    iters: int) -> np.ndarray:
    """FISTA on ``1/2 sum_j (tr(X_x M_j) - t_xj)^2`` over ``-I <= X_x <= I`` for x = 0, 1.

    ``m`` is ``(n, 3, d, d)`` (reduced state, K_0, K_1), ``targets`` is ``(n, 2, 3)``.
    """
    def gradient(y: np.ndarray) -> np.ndarray:
        return np.einsum("nxj,njab->nxab", np.einsum("nxab,njab->nxj", y, m) - targets, m)

    return _fista(obs, gradient, project_observables,
                  1.0 / _lipschitz(m)[:, None, None, None], iters)


def _alternate(p: np.ndarray, rho: np.ndarray, a: np.ndarray, b: np.ndarray,
               opt: FastOptions, iters: int, threshold: float, first: bool
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``iters`` alternating iterations (instances below ``threshold`` are frozen)."""
    n = len(p)
    dist = np.full(n, np.inf)
    count = np.zeros(n, dtype=np.int64)
    active = np.ones(n, dtype=bool)
    for it in range(iters):
        idx = np.flatnonzero(active)
        if len(idx) == 0:
            break
        pi, ai, bi, ri = p[idx], a[idx], b[idx], rho[idx]
        ri = state_step(pi, ri, ai, bi, opt.state_inner * (3 if first and it == 0 else 1))
        rho_a, ka = reduced_operators(ri, bi)
        ai = observable_step(alice_targets(pi), np.concatenate([rho_a[:, None], ka], axis=1),
                             ai, opt.obs_inner)
        rho_b, kb = reduced_operators_bob(ri, ai)
        bi = observable_step(bob_targets(pi), np.concatenate([rho_b[:, None], kb], axis=1),
                             bi, opt.obs_inner)
        di = np.linalg.norm(behaviour(ri, ai, bi) - pi, axis=1)
        rho[idx], a[idx], b[idx], dist[idx] = ri, ai, bi, di
        count[idx] += 1
        active[idx[di < threshold]] = False
    return rho, a, b, dist, count


def seesaw_fast(targets: np.ndarray, a0: np.ndarray, b0: np.ndarray, threshold: float = 1e-7,
                options: FastOptions | None = None) -> EngineResult:
    """Steered see-saw for ``n`` instances at once: target ``(n, 8)``, initial observables
    ``(n, 2, d, d)``. Rounds of alternating FISTA steps, each followed by a Levenberg-Marquardt
    polish on the realisation manifold; returns the final (valid) realisation per instance.
    """
    opt = options or FastOptions()
    p = np.asarray(targets, dtype=float).reshape(-1, 8)
    a = np.array(a0, dtype=float)
    b = np.array(b0, dtype=float)
    n, _, d, _ = a.shape
    big = d * d
    rho = np.broadcast_to(np.eye(big) / big, (n, big, big)).copy()
    dist = np.full(n, np.inf)
    iters = np.zeros(n, dtype=np.int64)
    reason = np.full(n, "max_iter", dtype=object)
    active = np.ones(n, dtype=bool)
    first = True
    while active.any():
        idx = np.flatnonzero(active)
        todo = int(min(opt.round_iter, opt.max_iter - iters[idx].max()))
        if todo <= 0:
            break
        ri, ai, bi, di, ci = _alternate(p[idx], rho[idx], a[idx], b[idx], opt, todo,
                                        threshold, first)
        first = False
        iters[idx] += ci
        pol = np.flatnonzero(di >= threshold)
        if opt.polish_iter > 0 and len(pol):
            dp, rp, ap, bp = lm_polish(p[idx[pol]], ri[pol], ai[pol], bi[pol], threshold,
                                       opt.polish_iter)
            better = dp < di[pol]
            sel = pol[better]
            ri[sel], ai[sel], bi[sel], di[sel] = rp[better], ap[better], bp[better], dp[better]
        done = di < threshold
        stalled = ~done & (di > opt.stall_ratio * dist[idx])
        rho[idx], a[idx], b[idx], dist[idx] = ri, ai, bi, di
        reason[idx[done]] = "threshold"
        reason[idx[stalled]] = "stalled"
        active[idx[done | stalled]] = False
        active &= iters < opt.max_iter
    return EngineResult(dist, rho, a, b, iters, reason.astype(str))


# ---------------------------------------------------------------------------
# Levenberg-Marquardt polish on a feasible parametrisation
# ---------------------------------------------------------------------------
# rho = V diag(c^2 / |c|^2) V^T and A = U diag(cos phi) U^T with V, U orthogonal (moved by the
# QR retraction of I + S, S skew): every parameter value is a valid realisation, so LM can
# drive the residual down superlinearly once the alternating phase has found the basin.


def _skew_from(vec: np.ndarray, m: int) -> np.ndarray:
    iu = np.triu_indices(m, 1)
    s = np.zeros(vec.shape[:-1] + (m, m))
    s[..., iu[0], iu[1]] = vec
    return s - np.swapaxes(s, -1, -2)


def _retract(u: np.ndarray, svec: np.ndarray) -> np.ndarray:
    m = u.shape[-1]
    q, r = np.linalg.qr(np.eye(m) + _skew_from(svec, m))
    q = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]
    return u @ q


def _spectral_jac(mt: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """D tr(M U diag(lam) U^T) / dS_ij (i < j) at S = 0, with ``mt = U^T M U``."""
    m = lam.shape[-1]
    iu = np.triu_indices(m, 1)
    g = 2.0 * mt * (lam[..., None, :] - lam[..., :, None])
    return g[..., iu[0], iu[1]]


class _Params:
    def __init__(self, state: np.ndarray, a: np.ndarray, b: np.ndarray,
                 snap: np.ndarray | None = None) -> None:
        """Spectral coordinates; with ``snap`` (per instance), weights below it become 0 and
        eigenvalues within it of +-1 become +-1: LM then works on that face (those
        coordinates have zero derivative and stay put).
        """
        w, self.v = eigh(state)
        la, self.ua = eigh(a)
        lb, self.ub = eigh(b)
        if snap is None:
            self.c = np.sqrt(np.maximum(w, 1e-10))
            la, lb = (np.clip(x, -1 + 1e-12, 1 - 1e-12) for x in (la, lb))
        else:
            self.c = np.sqrt(np.where(w < snap[:, None], 0.0, w))
            la = np.where(1 - np.abs(la) < snap[:, None, None], np.sign(la), la)
            lb = np.where(1 - np.abs(lb) < snap[:, None, None], np.sign(lb), lb)
        self.pa = np.arccos(np.clip(la, -1.0, 1.0))
        self.pb = np.arccos(np.clip(lb, -1.0, 1.0))

    def weights(self) -> np.ndarray:
        return self.c**2 / np.sum(self.c**2, axis=-1, keepdims=True)

    def realisation(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rho = np.einsum("...ik,...k,...jk->...ij", self.v, self.weights(), self.v)
        a = np.einsum("...ik,...k,...jk->...ij", self.ua, np.cos(self.pa), self.ua)
        b = np.einsum("...ik,...k,...jk->...ij", self.ub, np.cos(self.pb), self.ub)
        return rho, a, b

    def take(self, idx: np.ndarray) -> _Params:
        out = object.__new__(_Params)
        for k in ("v", "c", "ua", "ub", "pa", "pb"):
            setattr(out, k, getattr(self, k)[idx])
        return out

    def put(self, idx: np.ndarray, other: _Params) -> None:
        for k in ("v", "c", "ua", "ub", "pa", "pb"):
            getattr(self, k)[idx] = getattr(other, k)


def _jacobian(par: _Params, q: np.ndarray) -> np.ndarray:
    """Jacobian ``(n, 8, P)`` of the behaviour in the local coordinates around ``par``."""
    rho, a, b = par.realisation()
    n, big = par.c.shape
    d = a.shape[-1]
    w = par.weights()
    ops = state_operators(a, b)
    ot = np.einsum("nai,nkab,nbj->nkij", par.v, ops, par.v)
    j_rot = _spectral_jac(ot, w[:, None, :])
    norm = np.sum(par.c**2, axis=-1)
    j_c = (2.0 * par.c / norm[:, None])[:, None, :] * (np.diagonal(ot, axis1=-2, axis2=-1)
                                                       - q[:, :, None])
    blocks = [j_rot, j_c]
    rho_a, ka = reduced_operators(rho, b)
    rho_b, kb = reduced_operators_bob(rho, a)
    for u, phi, m, rows in ((par.ua, par.pa, np.concatenate([rho_a[:, None], ka], axis=1),
                             ((0, 4, 5), (1, 6, 7))),
                            (par.ub, par.pb, np.concatenate([rho_b[:, None], kb], axis=1),
                             ((2, 4, 6), (3, 5, 7)))):
        for x in range(2):
            mt = np.einsum("nai,njab,nbk->njik", u[:, x], m, u[:, x])
            jr = _spectral_jac(mt, np.cos(phi[:, x])[:, None, :])
            jp = np.diagonal(mt, axis1=-2, axis2=-1) * (-np.sin(phi[:, x]))[:, None, :]
            full_r = np.zeros((n, 8, jr.shape[-1]))
            full_p = np.zeros((n, 8, d))
            full_r[:, list(rows[x])] = jr
            full_p[:, list(rows[x])] = jp
            blocks += [full_r, full_p]
    del big
    return np.concatenate(blocks, axis=-1)


def _step(par: _Params, delta: np.ndarray) -> _Params:
    out = object.__new__(_Params)
    n, big = par.c.shape
    d = par.pa.shape[-1]
    nb, nd = big * (big - 1) // 2, d * (d - 1) // 2
    k = 0
    out.v = _retract(par.v, delta[:, k:k + nb])
    k += nb
    out.c = par.c + delta[:, k:k + big]
    k += big
    ua, ub, pa, pb = (par.ua.copy(), par.ub.copy(), par.pa.copy(), par.pb.copy())
    for u, p in ((ua, pa), (ub, pb)):
        for x in range(2):
            u[:, x] = _retract(u[:, x], delta[:, k:k + nd])
            k += nd
            p[:, x] = p[:, x] + delta[:, k:k + d]
            k += d
    out.ua, out.ub, out.pa, out.pb = ua, ub, pa, pb
    return out


def lm_polish(targets: np.ndarray, state: np.ndarray, a: np.ndarray, b: np.ndarray,
              threshold: float, max_iter: int = 60) -> tuple[np.ndarray, ...]:
    """Levenberg-Marquardt on the realisation manifold, from the iterate as is and from its
    snapped version (near-zero weights and near-+-1 eigenvalues made exact); the better wins.
    Returns (distance, state, a, b).
    """
    p = np.asarray(targets, dtype=float)
    d0 = np.linalg.norm(behaviour(state, a, b) - p, axis=-1)
    first = _lm(p, _Params(state, a, b), threshold, max_iter)
    snap = np.minimum(0.05, 3.0 * np.sqrt(d0))
    todo = np.flatnonzero(first[0] >= threshold)
    if len(todo) == 0:
        return first
    second = _lm(p[todo], _Params(state[todo], a[todo], b[todo], snap[todo]), threshold,
                 max_iter)
    better = second[0] < first[0][todo]
    for x, y in zip(first, second, strict=True):
        x[todo[better]] = y[better]
    return first


def _lm(p: np.ndarray, par: _Params, threshold: float, max_iter: int) -> tuple[np.ndarray, ...]:
    rho, aa, bb = par.realisation()
    q = behaviour(rho, aa, bb)
    dist = np.linalg.norm(q - p, axis=-1)
    nu = np.ones(len(p))
    active = dist >= threshold
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if len(idx) == 0:
            break
        sub = par.take(idx)
        qi = q[idx]
        r = qi - p[idx]
        jac = _jacobian(sub, qi)
        jj = np.einsum("nkp,nlp->nkl", jac, jac)
        scale = np.trace(jj, axis1=-2, axis2=-1) / 8.0
        mu = nu[idx] * np.minimum(dist[idx], 1.0) * scale
        z = solve(jj + mu[:, None, None] * np.eye(8), r[..., None])[..., 0]
        delta = -np.einsum("nkp,nk->np", jac, z)
        trial = _step(sub, delta)
        qt = behaviour(*trial.realisation())
        dt = np.linalg.norm(qt - p[idx], axis=-1)
        ok = np.isfinite(dt) & (dt < dist[idx])
        acc = idx[ok]
        par.put(acc, trial.take(np.flatnonzero(ok)))
        q[acc], dist[acc] = qt[ok], dt[ok]
        nu[acc] = np.maximum(nu[acc] / 4.0, 1e-6)
        nu[idx[~ok]] *= 8.0
        active = (dist >= threshold) & (nu < 1e8)
    rho, aa, bb = par.realisation()
    return dist, rho, aa, bb
