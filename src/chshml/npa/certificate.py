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
    """A certified ``lam_lo <= lam*``: the primal point scaled until PSD and inside NS."""
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
        return np.asarray(points) @ self.beta


def witness_from_dual(mm: MomentMap, z: np.ndarray, mu: np.ndarray) -> Witness:
    """The functional implied by a dual pair ``(Z >= 0, mu >= 0)`` (projected if needed):
    :func:`witness_map` of the PSD part of ``Z`` and the nonnegative part of ``mu``."""
    mu = np.clip(np.asarray(mu, dtype=float).ravel(), 0.0, None)
    beta, beta0 = witness_map(mm, psd_part(z)[None], mu[None])
    return Witness(beta[0], float(beta0[0]))


def outer_gauge(witness: Witness, p: np.ndarray) -> float:
    """A certified ``lam_hi >= lam*`` from a valid functional (inf if it says nothing)."""
    along = float(witness.beta @ p)
    if along <= 0:
        return np.inf
    return witness.beta0 / along
