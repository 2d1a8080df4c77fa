"""Atoms of Q in the CHSH scenario: real pure two-qubit states with real projective qubit
observables, and their behaviours.

Jordan's lemma and Masanes (quant-ph/0512100): every extreme point of Q (marginals included)
is the behaviour of a pure two-qubit state with observables ``A_x = cos a_x Z + sin a_x X``,
``B_y = cos b_y Z + sin b_y X``, and in a Jordan basis the state can be taken real. A 1x1
Jordan block (a +-1 observable) is embedded as ``A = +-Z`` (angle 0 or pi) acting on a state
supported on ``|0>`` of that party, so one encoding covers every atom: a unit 4-vector ``psi``
(basis ``|00>, |01>, |10>, |11>``, Alice's qubit first) and four angles ``(a0, a1, b0, b1)``.
"""

from __future__ import annotations

import itertools

import numpy as np

Z = np.array([[1.0, 0.0], [0.0, -1.0]])
X = np.array([[0.0, 1.0], [1.0, 0.0]])
I2 = np.eye(2)


def observables(angles: np.ndarray) -> np.ndarray:
    """``cos t Z + sin t X`` for each angle: shape ``angles.shape + (2, 2)``."""
    t = np.asarray(angles, dtype=float)
    c, s = np.cos(t)[..., None, None], np.sin(t)[..., None, None]
    return c * Z + s * X


def bell_operators(beta: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """The 4x4 real Bell operators ``sum_i beta_i O_i(angles)`` of stacked angle vectors.

    ``beta`` (8,) is a functional in the behaviour order ``(A0, A1, B0, B1, A0B0, A0B1,
    A1B0, A1B1)``; ``angles`` (s, 4) are ``(a0, a1, b0, b1)``. ``psi^T W psi = beta . p``.
    """
    obs = observables(angles)                      # (s, 4, 2, 2)
    a, b = obs[:, :2], obs[:, 2:]
    ka = beta[0] * a[:, 0] + beta[1] * a[:, 1]    # Alice's marginal part
    kb = beta[2] * b[:, 0] + beta[3] * b[:, 1]
    w = _kron(ka, I2) + _kron(I2, kb)
    for x in (0, 1):
        kx = beta[4 + 2 * x] * b[:, 0] + beta[5 + 2 * x] * b[:, 1]
        w = w + _kron(a[:, x], kx)
    return w


def _kron(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Stacked Kronecker product of 2x2 matrices (either may be unstacked)."""
    out = np.einsum("...ij,...kl->...ikjl", a, b)
    return out.reshape(out.shape[:-4] + (4, 4))


def behaviours(states: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """8-D behaviours of atoms: ``states`` (..., 4) real, ``angles`` (..., 4).

    Computed with ``psi`` as the 2x2 matrix ``Psi[i, j] = psi[2 i + j]``:
    ``<A x B> = tr(Psi^T A Psi B^T)``.
    """
    psi = np.asarray(states, dtype=float).reshape(np.shape(states)[:-1] + (2, 2))
    obs = observables(angles)
    a, b = obs[..., :2, :, :], obs[..., 2:, :, :]
    # Alice's operator applied: (A_x Psi), Bob's: (Psi B_y^T)
    a_psi = np.einsum("...xik,...kj->...xij", a, psi)
    psi_b = np.einsum("...ik,...yjk->...yij", psi, b)
    marg_a = np.einsum("...ij,...xij->...x", psi, a_psi)
    marg_b = np.einsum("...ij,...yij->...y", psi, psi_b)
    corr = np.einsum("...xij,...yij->...xy", a_psi, psi_b)
    return np.concatenate([marg_a, marg_b, corr.reshape(corr.shape[:-2] + (4,))], axis=-1)


def deterministic_atoms() -> tuple[np.ndarray, np.ndarray]:
    """The 16 local deterministic points as atoms: ``|00>`` with angles 0 or pi.

    Returned in the order of :data:`chshml.geometry.LOCAL_DETERMINISTIC_POINTS`.
    """
    states = np.zeros((16, 4))
    states[:, 0] = 1.0
    angles = np.array([[0.0 if s > 0 else np.pi for s in signs]
                       for signs in itertools.product((1, -1), repeat=4)])
    return states, angles


def embed(states: np.ndarray, angles: np.ndarray, weights: np.ndarray
          ) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """One realisation of local dimension ``2k`` of a mixture of ``k`` atoms.

    Direct sum with a classical flag: ``rho = sum_i w_i |i i><i i| (x) |psi_i><psi_i|`` on
    ``(C^k (x) C^2)`` for each party, ``A_x = sum_i |i><i| (x) A_x^(i)`` (likewise Bob), so
    the behaviour is ``sum_i w_i p(atom_i)``. Returns ``(rho, [A0, A1], [B0, B1])`` with the
    state on ``C^{2k} (x) C^{2k}`` (Alice first), real matrices.
    """
    w = np.asarray(weights, dtype=float)
    k = len(w)
    d = 2 * k
    obs = observables(angles)                      # (k, 4, 2, 2)
    ops = [np.zeros((d, d)) for _ in range(4)]
    rho = np.zeros((d * d, d * d))
    for i in range(k):
        for o in range(4):
            ops[o][2 * i:2 * i + 2, 2 * i:2 * i + 2] = obs[i, o]
        vec = np.zeros((d, d))                      # |i>|a> (x) |i>|b> amplitudes
        vec[2 * i:2 * i + 2, 2 * i:2 * i + 2] = np.asarray(states[i]).reshape(2, 2)
        v = vec.ravel()
        rho += w[i] * np.outer(v, v)
    return rho, ops[:2], ops[2:]
