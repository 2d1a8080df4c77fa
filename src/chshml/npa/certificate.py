"""Rigorous brackets on the NPA gauge from approximate primal and dual solutions.

For ``lam* = max lam s.t. Gamma(lam p, y) >= 0, lam p in NS``:

* inner bound: any primal ``(lam, y)`` is pulled inside by mixing with the origin, whose
  moment matrix is the identity: ``(1 - t) Gamma + t I`` is PSD for ``t = -e_min / (1 - e_min)``;
* outer bound: any ``Z >= 0`` and ``mu >= 0`` give the Bell functional ``beta`` with
  ``beta . q <= beta0`` on all of ``Q_n ∩ NS`` (free moments obey ``|y_k| <= 1``), hence
  ``lam* <= beta0 / (beta . p)`` when ``beta . p > 0``. Such ``(beta, beta0)`` with
  ``beta . p > beta0`` is a dual witness that ``p`` is outside ``Q_n``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chshml.geometry import NS_FACETS_G, NS_FACETS_H
from chshml.linalg import eigh, eigvalsh
from chshml.npa.words import MomentMap


def psd_part(z: np.ndarray, rel_floor: float = 0.0) -> np.ndarray:
    """The symmetrised matrix (or stack of matrices) with eigenvalues clipped from below.

    ``rel_floor = 0`` gives the nearest PSD matrix; a positive ``rel_floor`` clips at that
    fraction of the largest eigenvalue, so the result is positive definite (a certificate
    that a Cholesky test accepts).

    Parameters
    ----------
    z : ndarray, shape (m, m) or (n, m, m)
        Symmetric matrix or stack of them (the eigensolver reads one triangle).
    rel_floor : float, optional
        Eigenvalue floor relative to each matrix's largest eigenvalue (0: clip at 0).

    Returns
    -------
    ndarray, same shape as ``z``
        The clipped matrices, symmetrised.
    """
    z = np.asarray(z, dtype=float)
    w, v = eigh(z)
    floor = rel_floor * np.maximum(w[..., -1:], 0.0)
    out = (v * np.maximum(w, floor)[..., None, :]) @ np.swapaxes(v, -1, -2)
    return 0.5 * (out + np.swapaxes(out, -1, -2))


def witness_map(mm: MomentMap, z: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(beta, beta0)`` of stacked dual certificates ``Z`` (n, m, m), ``mu`` (n, 16).

    The linear identity behind every witness: for ``Z >= 0``, ``mu >= 0`` and any ``q`` with
    ``Gamma(q, y) >= 0`` and ``G_ns q <= h``,
    ``0 <= <Z, Gamma(q, y)> + mu . (h - G_ns q)`` gives ``beta . q <= beta0`` with
    ``beta = -<Z, F_i> + G_ns^T mu`` and ``beta0 = tr Z + mu . h + sum_k |<Z, G_k>|``
    (diagonal entries of ``Gamma`` are 1, so ``|y_k| <= 1``). No projection is applied.

    Parameters
    ----------
    mm : MomentMap
        The level's map, with ``m = mm.size`` and ``K = mm.n_free``.
    z : ndarray, shape (n, m, m)
        Dual PSD certificates (used as given).
    mu : ndarray, shape (n, 16)
        Multipliers of the NS facets ``G_ns q <= h`` (used as given).

    Returns
    -------
    beta : ndarray, shape (n, 8)
        The Bell functionals.
    beta0 : ndarray, shape (n,)
        Their bounds on ``Q_n ∩ NS`` (valid when ``Z >= 0`` and ``mu >= 0``).
    """
    z = np.asarray(z, dtype=float)
    mu = np.asarray(mu, dtype=float)
    m = mm.size
    zf = z.reshape(len(z), m * m)
    beta = -zf @ mm.F.reshape(8, m * m).T + mu @ NS_FACETS_G
    free = np.abs(zf @ mm.G.reshape(mm.n_free, m * m).T).sum(axis=1) if mm.n_free else 0.0
    beta0 = np.trace(z, axis1=1, axis2=2) + mu @ NS_FACETS_H + free
    return beta, beta0


def inner_gauge(mm: MomentMap, p: np.ndarray, lam: float, y: np.ndarray) -> float:
    """A certified ``lam_lo <= lam*``: the primal point scaled until PSD and inside NS.

    Parameters
    ----------
    mm : MomentMap
        The level's map.
    p : ndarray, shape (8,)
        The behaviour (the ray's direction).
    lam : float
        The solver's gauge.
    y : ndarray, shape (K,)
        The solver's free moments at ``lam p``.

    Returns
    -------
    float
        ``lam`` shrunk until ``Gamma(lam p, y)`` mixed with ``I`` is PSD and ``lam p`` is in
        NS; 0 if ``lam`` is not finite and positive.
    """
    if not np.isfinite(lam) or lam <= 0:
        return 0.0
    gamma = mm.matrix(lam * p, y)
    e_min = float(eigvalsh(gamma)[0])
    scale = 1.0 if e_min >= 0 else 1.0 / (1.0 - e_min)
    ns_max = float(np.max(NS_FACETS_G @ (lam * p)))
    if ns_max > 1.0:
        scale *= 1.0 / ns_max
    return lam * scale


@dataclass(frozen=True)
class Witness:
    """A Bell functional valid on ``Q_n ∩ NS``: ``beta . q <= beta0`` for every such ``q``."""

    beta: np.ndarray
    beta0: float

    def value(self, points: np.ndarray) -> np.ndarray:
        """``beta . q`` for each row ``q`` of ``points`` (shape (n, 8) -> (n,))."""
        return np.asarray(points) @ self.beta


def witness_from_dual(mm: MomentMap, z: np.ndarray, mu: np.ndarray) -> Witness:
    """The functional implied by a dual pair ``(Z >= 0, mu >= 0)``, projected if needed.

    It is :func:`witness_map` of the PSD part of ``Z`` and the nonnegative part of ``mu``.

    Parameters
    ----------
    mm : MomentMap
        The level's map.
    z : ndarray, shape (m, m)
        The solver's dual of the PSD constraint.
    mu : ndarray, shape (16,)
        The solver's duals of the NS facets.

    Returns
    -------
    Witness
        A functional valid on ``Q_n ∩ NS`` whatever the solver's accuracy.
    """
    mu = np.clip(np.asarray(mu, dtype=float).ravel(), 0.0, None)
    beta, beta0 = witness_map(mm, psd_part(z)[None], mu[None])
    return Witness(beta[0], float(beta0[0]))


def outer_gauge(witness: Witness, p: np.ndarray) -> float:
    """A certified ``lam_hi >= lam*`` from a valid functional (inf if it says nothing).

    Parameters
    ----------
    witness : Witness
        A functional valid on ``Q_n ∩ NS``.
    p : ndarray, shape (8,)
        The behaviour.

    Returns
    -------
    float
        ``beta0 / (beta . p)`` if ``beta . p > 0``, else inf.
    """
    along = float(witness.beta @ p)
    if along <= 0:
        return np.inf
    return witness.beta0 / along
