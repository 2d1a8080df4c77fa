"""The chart of ray directions on which gauge models live.

Physics: the gauge ``lam(p) = max{lam : lam p in Q}`` is positively homogeneous of degree -1,
so it is fixed by its value on one point per ray. Every ray from the origin leaves the local
polytope L (inside Q) either through an NS facet -- then Q, squeezed between L and NS, ends
there too and ``lam = lam_NS`` exactly -- or through one of the 8 CHSH facets. Those rays are
mapped by the relabelling group onto the canonical facet ``E00 + E01 + E10 - E11 = 2`` (a
simplex whose vertices are deterministic points) and then to one representative of the
facet's own symmetries (:func:`chshml.geometry.fundamental_domain`). The crossing point ``q``
of the ray with that facet is the model's input; ``lam(q) >= 1`` its target, and
``lam(p) = lam(q) * 2 / CHSH(p)``. Signed permutations are exact in floating point, so every
quantity here is exactly invariant under the 128 relabellings.

Contact coordinates: Q touches each NS facet ``G_k p <= h_k`` tangentially, its gap to the
facet closing quadratically in the distance to the contact. With ``r_k(q) = G_k q / h_k``
(``1 / lam_k`` where positive), ``s_k = sqrt(1 - lam(q) r_k(q))`` is therefore smooth on the
whole curved part and crosses zero linearly at facet k's contact, where ``lam`` itself bends
sharply; ``s_k <= 0`` continued past the contact means "Q's boundary lies on facet k".

Amplitudes: ``s_k`` is (up to a constant) the amplitude ``sqrt(p(ab|xy))`` of the boundary
point's probability on facet k. Near a ridge where two facets' contacts meet, Q's boundary is
curved in ``p`` and nearly flat in amplitudes (exactly linear in their arcsines for the 4-D
Tsirelson-Landau-Masanes boundary), so the 8-D models learn Q's boundary as a level set over
the 16 amplitudes of a point (:func:`amplitudes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chshml.geometry import (
    CANONICAL_CHSH_SIGNS,
    CORR_DIM,
    PR_BOXES,
    SIMPLEX_STABILISER,
    chsh_values,
    fundamental_domain,
    lexicographic_largest,
    ns_facets,
    ns_gauge,
    probabilities,
    to_corr,
    to_full,
)

#: Rays whose CHSH exit is within this relative distance of their NS exit count as NS rays.
NS_EXIT_RTOL = 1e-12


@dataclass
class RayChart:
    """Where each point's ray leaves L, and its facet point when that is a CHSH facet.

    ``lam_ns``: exact NS gauge of the point; ``chsh``: largest CHSH value ``s . E``;
    ``curved``: the ray leaves L through a CHSH facet (only there does ``lam_Q`` need a
    model); ``q``: for curved rays, the canonical facet point (n_curved x D, D = 4 for a 4-D
    chart, 8 otherwise); ``lam_ns_q``: NS gauge of ``q``.
    """

    lam_ns: np.ndarray
    chsh: np.ndarray
    curved: np.ndarray
    q: np.ndarray
    lam_ns_q: np.ndarray

    @property
    def scale(self) -> np.ndarray:
        """``CHSH(p) / 2`` of curved points: ``lam(p) = lam(q) / scale``."""
        return self.chsh[self.curved] / 2.0


def ray_chart(points: np.ndarray, dim: int) -> RayChart:
    """Chart 4-D or 8-D behaviours for a model of space dimension ``dim`` (4 or 8).

    A 4-D chart needs zero marginals (4-D points, or 8-D with zero marginals): its ``q`` are
    correlators. The origin is charted as an NS ray (``lam = inf``).
    """
    points = np.asarray(points, dtype=float)
    full = to_full(points)
    if dim == CORR_DIM and np.any(full[:, :4] != 0):
        raise ValueError("a correlation-space (corr4) gauge model needs zero marginals")
    # every quantity from the orbit representative: exactly invariant, to the last bit
    nonzero = np.any(full != 0, axis=1)
    rep_all = full.copy()
    if nonzero.any():
        rep_all[nonzero] = fundamental_domain(full[nonzero])
    lam_ns = ns_gauge(rep_all)[0]
    chsh = np.max(chsh_values(rep_all), axis=1) if len(full) else np.zeros(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam_l = np.where(chsh > 0, 2.0 / np.where(chsh > 0, chsh, 1.0), np.inf)
    curved = nonzero & np.isfinite(lam_l) & (lam_l < lam_ns * (1 - NS_EXIT_RTOL))
    rep = rep_all[curved]
    s_rep = to_corr(rep) @ CANONICAL_CHSH_SIGNS
    q = 2.0 * rep / s_rep[:, None] if len(rep) else rep
    lam_ns_q = ns_gauge(q)[0]
    if dim == CORR_DIM:
        q = to_corr(q)
    return RayChart(lam_ns, chsh, curved, q, lam_ns_q)


def facet_point_gauge(chart: RayChart, lam: np.ndarray) -> np.ndarray:
    """``lam(q)`` of curved points from their own gauges ``lam(p)``: ``lam(p) * CHSH(p) / 2``."""
    return np.asarray(lam, dtype=float)[chart.curved] * chart.scale


def facet_rates(q: np.ndarray) -> np.ndarray:
    """``r_k(q) = G_k q / h_k`` for every NS facet (cube faces for 4-D ``q``), shape (n, F).

    Where positive, ``1 / r_k`` is the gauge of facet k alone; the largest ``r_k`` is the NS
    facet the ray leaves through.
    """
    g, h = ns_facets(q.shape[1])
    return (q @ g.T) / h


def contact_coordinates(lam_q: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """``s_k = sqrt(1 - lam(q) r_k(q))`` (n, F): smooth targets that vanish at facet contacts."""
    return np.sqrt(np.clip(1.0 - lam_q[:, None] * rates, 0.0, None))


def gauge_from_contact(s: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Invert :func:`contact_coordinates` for one facet: ``lam = (1 - max(s, 0)^2) / r``.

    ``s <= 0`` gives ``1 / r`` (the boundary on that facet); ``r <= 0`` gives ``inf``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = (1.0 - np.maximum(s, 0.0) ** 2) / rate
    return np.where(rate > 0, lam, np.inf)


def amplitudes(points: np.ndarray) -> np.ndarray:
    """``sqrt(p(ab|xy))`` of 8-D behaviours, shape (n, 16) (negative probabilities read 0)."""
    return np.sqrt(np.clip(probabilities(points), 0.0, None))


#: The NS facet every charted ray is turned to leave NS through (the first facet of the
#: canonical PR box); the canonical facet's 16 symmetries permute the eight such facets.
EXIT_FACET = int(np.argmax(facet_rates(PR_BOXES[:1])[0]))


def exit_representative(q: np.ndarray) -> np.ndarray:
    """Image of each canonical facet point under the facet's symmetries that leaves NS through
    :data:`EXIT_FACET` (lexicographically largest if several do; ``q`` itself if none does).

    Points of one orbit get one representative, so functions of it stay exactly invariant.
    """
    images = np.einsum("gij,nj->ngi", SIMPLEX_STABILISER, q)
    rates = facet_rates(images.reshape(-1, q.shape[1])).reshape(len(q), len(images[0]), -1)
    candidates = np.argmax(rates, axis=2) == EXIT_FACET
    candidates[~candidates.any(axis=1), 0] = True  # identity (index 0) when no image does
    return lexicographic_largest(images, candidates)
