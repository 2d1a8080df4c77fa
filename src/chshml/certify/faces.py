"""Faces of Q beyond the canonical CHSH facet: a ray's gauge from one qubit atom over the facet.

Physics: beyond the canonical CHSH facet, Q's boundary is made of faces spanned by one two-qubit
atom ``a`` and two or three of the facet's eight deterministic vertices ``v_i`` (measured at the
report's hidden Q_3 boundary points: ``benchmarks/q_boundary_faces.py``). For a ray through the
facet point ``q`` the largest ``t`` with ``t q`` in conv(``a``, ``v_1..v_8``) has a closed form
(:func:`cone_gauge`). Every atom gives a lower bound ``lam_Q(q) >= t`` with an explicit
realisation (the weights of :func:`cone_weights`); the atom of ``q``'s face gives equality.
:func:`polish_atom` moves an atom's state and angles to the largest ``t`` from a start near
the face's atom (for example, the atom of a neighbouring ray's face), and :func:`witness_atom`
reads a ray's face atom off a supporting hyperplane with the qubit oracle.
"""

from __future__ import annotations

import numpy as np

from chshml.certify.atoms import behaviours
from chshml.certify.oracle import QubitOracle
from chshml.geometry import CANONICAL_CHSH_SIGNS, canonical_simplex_vertices, to_canonical, to_corr

#: The 8 deterministic vertices of the canonical CHSH facet (rows): a basis of R^8.
FACET_VERTICES = canonical_simplex_vertices(8)[1:]
_TO_BARYCENTRIC = np.linalg.inv(FACET_VERTICES)
#: Finite-difference step on an atom's state and angles in :func:`polish_atom`.
_FD_STEP = 1e-7
#: SLSQP's stopping tolerance on ``t`` in :func:`polish_atom`: the polished gauges of the
#: hidden Q_3 boundary points come out within 1.5e-10 of NPA level 3 at 1e-10, in about
#: 3 ms CPU per point (about 25 iterations); at 1e-14 SLSQP runs to ``max_iter`` (~35 ms) and
#: stopped far off the face on one point of 300.
POLISH_FTOL = 1e-10


def facet_points(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each 8-D point's ray on the canonical facet: ``(q, CHSH / 2, relabelling index)``.

    The point is first relabelled so that its largest CHSH value is the canonical one
    (:func:`chshml.geometry.to_canonical`); then ``q = point / (CHSH / 2)`` and
    ``lam(point) = lam(q) / (CHSH / 2)``. Meaningful for points with CHSH > 0 only.
    """
    canonical, element = to_canonical(points)
    half_chsh = to_corr(canonical) @ CANONICAL_CHSH_SIGNS / 2.0
    return canonical / half_chsh[:, None], half_chsh, element


def cone_gauge(q: np.ndarray, atom: np.ndarray) -> np.ndarray:
    """Largest ``t`` with ``t q`` in conv(``atom``, facet vertices), for ``q`` in the facet.

    With barycentric coordinates ``c`` of ``q`` and ``alpha`` of the atom (``A = sum alpha =
    CHSH(atom) / 2``), ``t q = w atom + sum_i mu_i v_i`` forces ``w = (t - 1) / (A - 1)`` and
    ``mu_i = t c_i - w alpha_i >= 0``, so ``t = min alpha_i / (alpha_i - c_i (A - 1))`` over
    the ``i`` where that is positive. An atom not beyond the facet gives 1. Broadcasts.
    """
    c = np.asarray(q, dtype=float) @ _TO_BARYCENTRIC
    alpha = np.asarray(atom, dtype=float) @ _TO_BARYCENTRIC
    big_a = alpha.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = alpha / (big_a - 1.0)[..., None]
        ratio = np.where(k > c, k / (k - c), np.inf)
    t = np.min(ratio, axis=-1)
    return np.where(big_a > 1.0, np.maximum(t, 1.0), 1.0)


def cone_weights(q: np.ndarray, atom: np.ndarray, t: float) -> tuple[float, np.ndarray]:
    """Weights ``(w, mu)`` with ``t q = w atom + sum_i mu_i v_i`` and ``w + sum mu = 1``.

    Both are non-negative for ``1 <= t <= cone_gauge(q, atom)``: the explicit decomposition
    behind the lower bound.
    """
    c = np.asarray(q, dtype=float) @ _TO_BARYCENTRIC
    alpha = np.asarray(atom, dtype=float) @ _TO_BARYCENTRIC
    w = (t - 1.0) / (alpha.sum() - 1.0)
    return float(w), t * c - w * alpha


def atom_point(params: np.ndarray) -> np.ndarray:
    """Behaviours of atoms with (unnormalised) states ``params[..., :4]`` and angles
    ``params[..., 4:8]``.
    """
    params = np.asarray(params, dtype=float)
    states = params[..., :4] / np.linalg.norm(params[..., :4], axis=-1, keepdims=True)
    return behaviours(states, params[..., 4:8])


def witness_atom(oracle: QubitOracle, beta: np.ndarray) -> np.ndarray | None:
    """The best non-deterministic local maximiser of ``beta . p`` over atoms, as its state
    and angles (8,); ``None`` if the oracle finds only deterministic points.

    For a supporting hyperplane of Q at a boundary point beyond the canonical facet, this
    is the qubit atom of the point's face.
    """
    res = oracle.maximise(np.asarray(beta, dtype=float), keep=4)
    for state, angles, point in zip(res.states, res.angles, res.points, strict=True):
        if not np.all(np.isclose(np.abs(point), 1.0, atol=1e-6)):
            return np.concatenate([state, angles])
    return None


def polish_atom(q: np.ndarray, params: np.ndarray, max_iter: int = 100
                ) -> tuple[float, np.ndarray]:
    """Maximise ``cone_gauge(q, atom)`` over the atom's state and angles, from ``params``.

    SLSQP on ``max t`` subject to ``mu_i(t, atom) >= 0`` for the 8 facet vertices, with the
    constraint Jacobian by finite differences of one batched behaviour evaluation. Returns
    ``(t, params)``; ``t`` is recomputed from the final atom, so it is a lower bound on
    ``lam_Q(q)`` whatever the optimiser did.
    """
    from scipy.optimize import minimize

    c = np.asarray(q, dtype=float) @ _TO_BARYCENTRIC
    steps = np.vstack([np.zeros(8), _FD_STEP * np.eye(8)])
    cache: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}

    def constraints(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = x.tobytes()
        if key not in cache:
            alpha = atom_point(x[:8] + steps) @ _TO_BARYCENTRIC
            k = alpha / (alpha.sum(axis=1, keepdims=True) - 1.0)
            jac = np.empty((8, 9))
            jac[:, :8] = (-(x[8] - 1.0) * (k[1:] - k[0]) / _FD_STEP).T
            jac[:, 8] = c - k[0]
            cache.clear()
            cache[key] = (x[8] * c - (x[8] - 1.0) * k[0], jac)
        return cache[key]

    params = np.asarray(params, dtype=float)
    t0 = float(cone_gauge(q, atom_point(params)))
    res = minimize(lambda x: -x[8], np.append(params, t0), method="SLSQP",
                   jac=lambda x: -np.eye(9)[8],
                   constraints=[{"type": "ineq", "fun": lambda x: constraints(x)[0],
                                 "jac": lambda x: constraints(x)[1]}],
                   options={"ftol": POLISH_FTOL, "maxiter": max_iter})
    best = res.x[:8] if np.all(np.isfinite(res.x)) else params
    t = float(cone_gauge(q, atom_point(best)))
    return (t, best) if t >= t0 else (t0, params)
