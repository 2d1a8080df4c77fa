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
from chshml.npa.words import MomentMap


def psd_part(z: np.ndarray) -> np.ndarray:
    """Nearest PSD matrix (clip negative eigenvalues of the symmetrised matrix)."""
    z = 0.5 * (z + z.T)
    w, v = np.linalg.eigh(z)
    return (v * np.clip(w, 0.0, None)) @ v.T


def inner_gauge(mm: MomentMap, p: np.ndarray, lam: float, y: np.ndarray) -> float:
    """A certified ``lam_lo <= lam*``: the primal point scaled until PSD and inside NS."""
    if not np.isfinite(lam) or lam <= 0:
        return 0.0
    gamma = mm.matrix(lam * p, y)
    e_min = float(np.linalg.eigvalsh(gamma)[0])
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
    """The functional implied by a dual pair ``(Z >= 0, mu >= 0)`` (projected if needed).

    ``<Z, Gamma(q, y)> >= 0`` and ``mu . (h - G_ns q) >= 0`` sum to ``beta . q <= beta0``
    with ``beta_i = -<Z, F_i> + (G_ns^T mu)_i`` and
    ``beta0 = tr Z + mu . h + sum_k |<Z, G_k>|`` (using ``|y_k| <= 1``).
    """
    z = psd_part(z)
    mu = np.clip(np.asarray(mu, dtype=float), 0.0, None)
    beta = -np.einsum("ij,kij->k", z, mm.F) + NS_FACETS_G.T @ mu
    slack_free = np.abs(np.einsum("ij,kij->k", z, mm.G)).sum() if mm.n_free else 0.0
    beta0 = float(np.trace(z) + mu @ NS_FACETS_H + slack_free)
    return Witness(beta, beta0)


def outer_gauge(witness: Witness, p: np.ndarray) -> float:
    """A certified ``lam_hi >= lam*`` from a valid functional (inf if it says nothing)."""
    along = float(witness.beta @ p)
    if along <= 0:
        return np.inf
    return witness.beta0 / along
