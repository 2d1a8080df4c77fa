"""Quantum realisations (state, A0, A1, B0, B1) of CHSH behaviours in local dimension d.

All matrices are **real** symmetric. In the CHSH scenario this loses nothing: by Jordan's lemma
two binary observables split into blocks of size <= 2 that can be rotated to real form, and for
real observables ``tr(rho O) = tr(Re(rho) O)`` with ``Re(rho)`` again a density matrix; so real
and complex realisations of local dimension d give the same set ``Q_{d x d}``.

Layout (batched over any leading axes): ``state`` is ``(..., D, D)`` with ``D = d*d`` and Alice's
factor first (index ``i*d + j`` for Alice's ``i`` and Bob's ``j``); ``a`` and ``b`` are
``(..., 2, d, d)`` (observables for inputs 0 and 1). Observables satisfy ``-I <= A <= I``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chshml.linalg import eigh, eigvalsh

#: Slack allowed on ``rho >= 0``, ``tr rho = 1`` and ``-I <= A <= I`` when checking a realisation.
VALIDITY_TOL = 1e-10


def reduced_operators(state: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Alice's reduced state and ``K_y = tr_B[rho (I x B_y)]``, so ``<A_x B_y> = tr(A_x K_y)``."""
    d = b.shape[-1]
    r = state.reshape(state.shape[:-2] + (d, d, d, d))
    rho_a = np.einsum("...ijkj->...ik", r)
    k = np.einsum("...ijkl,...yjl->...yik", r, b)
    return rho_a, k


def reduced_operators_bob(state: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bob's reduced state and ``K_x = tr_A[rho (A_x x I)]``, so ``<A_x B_y> = tr(B_y K_x)``."""
    d = a.shape[-1]
    r = state.reshape(state.shape[:-2] + (d, d, d, d))
    rho_b = np.einsum("...ijil->...jl", r)
    k = np.einsum("...ijkl,...xik->...xjl", r, a)
    return rho_b, k


def behaviour(state: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The 8-D behaviour ``(<A0>,<A1>,<B0>,<B1>,<A0B0>,<A0B1>,<A1B0>,<A1B1>)`` of a realisation."""
    state, a, b = (np.asarray(x, dtype=float) for x in (state, a, b))
    rho_a, k = reduced_operators(state, b)
    d = a.shape[-1]
    r = state.reshape(state.shape[:-2] + (d, d, d, d))
    rho_b = np.einsum("...ijil->...jl", r)
    ma = np.einsum("...ik,...xik->...x", rho_a, a)
    mb = np.einsum("...jl,...yjl->...y", rho_b, b)
    corr = np.einsum("...xik,...yik->...xy", a, k)
    return np.concatenate([ma, mb, corr.reshape(corr.shape[:-2] + (4,))], axis=-1)


def project_simplex(w: np.ndarray) -> np.ndarray:
    """Euclidean projection of each row of ``w`` onto the probability simplex."""
    u = -np.sort(-w, axis=-1)
    css = np.cumsum(u, axis=-1) - 1.0
    idx = np.arange(1, w.shape[-1] + 1)
    cond = u - css / idx > 0
    last = w.shape[-1] - 1 - np.argmax(cond[..., ::-1], axis=-1)
    theta = np.take_along_axis(css, last[..., None], axis=-1) / (last[..., None] + 1.0)
    return np.maximum(w - theta, 0.0)


def project_states(x: np.ndarray) -> np.ndarray:
    """Frobenius projection onto density matrices (symmetric, PSD, trace 1)."""
    x = 0.5 * (x + np.swapaxes(x, -1, -2))
    w, v = eigh(x)
    w = project_simplex(w)
    return np.einsum("...ik,...k,...jk->...ij", v, w, v)


def project_observables(x: np.ndarray) -> np.ndarray:
    """Frobenius projection onto ``-I <= A <= I``: clip the eigenvalues to [-1, 1]."""
    x = 0.5 * (x + np.swapaxes(x, -1, -2))
    w, v = eigh(x)
    w = np.clip(w, -1.0, 1.0)
    return np.einsum("...ik,...k,...jk->...ij", v, w, v)


def random_observables(dim: int, seed: int, base_seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random projective (+-1) observables ``(a, b)`` for restart ``seed``: Haar basis, random
    spectrum with both signs present (for ``dim >= 2``). Same seed -> same start in both engines.
    """
    rng = np.random.default_rng([int(base_seed), int(dim), int(seed)])
    out = np.empty((4, dim, dim))
    for k in range(4):
        q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
        q = q * np.sign(np.diag(r))
        n_plus = int(rng.integers(1, dim)) if dim >= 2 else 1
        signs = np.array([1.0] * n_plus + [-1.0] * (dim - n_plus))
        out[k] = (q * signs) @ q.T
    return out[:2], out[2:]


def initial_observables(dim: int, seeds: np.ndarray, base_seed: int = 0
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Stacked :func:`random_observables` for an array of restart seeds: ``(n, 2, d, d)`` each."""
    pairs = [random_observables(dim, int(s), base_seed) for s in np.ravel(seeds)]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


@dataclass
class Check:
    """Outcome of :func:`check_realisation` (arrays over the batch)."""

    distance: np.ndarray
    state_violation: np.ndarray
    observable_violation: np.ndarray
    valid: np.ndarray
    certified: np.ndarray


def check_realisation(p: np.ndarray, state: np.ndarray, a: np.ndarray, b: np.ndarray,
                      threshold: float = 1e-7, tol: float = VALIDITY_TOL) -> Check:
    """Recompute p from the realisation: certified iff valid (PSD, trace 1, ``|eig A| <= 1`` and
    symmetric, all to ``tol``) and ``||q - p||_2 < threshold``. NaN realisations are invalid.
    """
    p = np.asarray(p, dtype=float)
    state, a, b = (np.asarray(x, dtype=float) for x in (state, a, b))
    finite = (np.isfinite(state).all(axis=(-1, -2)) & np.isfinite(a).all(axis=(-1, -2, -3))
              & np.isfinite(b).all(axis=(-1, -2, -3)))
    s = np.where(finite[..., None, None], state, 0.0)
    aa = np.where(finite[..., None, None, None], a, 0.0)
    bb = np.where(finite[..., None, None, None], b, 0.0)
    asym = np.maximum(np.abs(s - np.swapaxes(s, -1, -2)).max(axis=(-1, -2)),
                      np.maximum(np.abs(aa - np.swapaxes(aa, -1, -2)).max(axis=(-1, -2, -3)),
                                 np.abs(bb - np.swapaxes(bb, -1, -2)).max(axis=(-1, -2, -3))))
    ws = eigvalsh(s)
    state_viol = np.maximum(-ws.min(axis=-1), np.abs(np.trace(s, axis1=-2, axis2=-1) - 1.0))
    obs = np.concatenate([aa, bb], axis=-3)
    wo = eigvalsh(obs)
    obs_viol = np.maximum(np.abs(wo).max(axis=(-1, -2)) - 1.0, 0.0)
    distance = np.linalg.norm(behaviour(s, aa, bb) - p, axis=-1)
    distance = np.where(finite, distance, np.inf)
    valid = finite & (state_viol <= tol) & (obs_viol <= tol) & (asym <= tol)
    return Check(distance, np.where(finite, state_viol, np.inf),
                 np.where(finite, obs_viol, np.inf), valid, valid & (distance < threshold))


def qubit_realisation(theta_a: tuple[float, float], theta_b: tuple[float, float],
                      psi: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A real qubit realisation: ``A_x = cos(t) Z + sin(t) X`` and the state ``|psi><psi|``
    (default the maximally entangled ``(|00> + |11>)/sqrt 2``).
    """
    z = np.diag([1.0, -1.0])
    x = np.array([[0.0, 1.0], [1.0, 0.0]])
    a = np.array([np.cos(t) * z + np.sin(t) * x for t in theta_a])
    b = np.array([np.cos(t) * z + np.sin(t) * x for t in theta_b])
    if psi is None:
        psi = np.array([1.0, 0.0, 0.0, 1.0]) / np.sqrt(2.0)
    psi = np.asarray(psi, dtype=float)
    psi = psi / np.linalg.norm(psi)
    return np.outer(psi, psi), a, b
