"""Unlabelled samplers: hit-and-run in H-polytopes, exact uniform samplers and directions.

Every sampler takes a ``numpy.random.Generator`` and is vectorised over points or chains.
"""

from __future__ import annotations

import numpy as np

from chshml.geometry import (
    CHSH_SIGNS,
    CORR_DIM,
    canonical_simplex_vertices,
    exit_facet,
    local_facets,
    ns_facets,
    ns_violation,
)


def hit_and_run(G: np.ndarray, h: np.ndarray, n: int, rng: np.random.Generator,
                x0: np.ndarray | None = None, burn_in: int = 500, thinning: int = 50,
                chains: int = 64) -> np.ndarray:
    """Uniform points of the bounded polytope ``{x : G x <= h}`` by hit-and-run.

    ``chains`` independent walks start at ``x0`` (default: the origin, which must be
    interior), each discards ``burn_in`` steps and then keeps every ``thinning``-th point.
    """
    G = np.asarray(G, dtype=float)
    h = np.asarray(h, dtype=float)
    dim = G.shape[1]
    x = np.tile(np.zeros(dim) if x0 is None else np.asarray(x0, dtype=float), (chains, 1))
    if np.any(x @ G.T - h >= 0):
        raise ValueError("hit-and-run needs a strictly interior starting point")
    per_chain = -(-n // chains)
    kept = np.empty((per_chain, chains, dim))
    total_steps = burn_in + per_chain * thinning
    k = 0
    for step in range(1, total_steps + 1):
        d = rng.standard_normal((chains, dim))
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        gd = d @ G.T  # rate of change of each constraint along d
        slack = h - x @ G.T  # > 0 inside
        with np.errstate(divide="ignore"):
            t = slack / gd
        t_hi = np.min(np.where(gd > 0, t, np.inf), axis=1)
        t_lo = np.max(np.where(gd < 0, t, -np.inf), axis=1)
        x = x + rng.uniform(t_lo, t_hi)[:, None] * d
        if step > burn_in and (step - burn_in) % thinning == 0:
            kept[k] = x
            k += 1
    # interleave chains so that a prefix of the output mixes all chains
    return kept.reshape(-1, dim)[:n]


def uniform_cube(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Exact uniform points of the cube [-1, 1]^dim."""
    return rng.uniform(-1.0, 1.0, size=(n, dim))


def uniform_simplex(vertices: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Exact uniform points of the simplex spanned by ``vertices`` (flat Dirichlet weights)."""
    weights = rng.dirichlet(np.ones(len(vertices)), size=n)
    return weights @ np.asarray(vertices, dtype=float)


#: Cube points drawn at once by :func:`uniform_ns`'s rejection (~16 MB of candidates).
REJECTION_CHUNK = 262_144


def uniform_ns(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Exact uniform points of NS: the cube in 4-D; rejection from the cube in 8-D (~2.7 %)."""
    if dim == CORR_DIM:
        return uniform_cube(n, dim, rng)
    out, have = [], 0
    while have < n:
        # Candidates come in chunks of one stream, so the accepted points (the first n
        # accepted) do not depend on the chunk size; drawing stops once n are accepted
        # (memory ~ one chunk, not 150 n).
        batch = uniform_cube(min(REJECTION_CHUNK, max(4 * (n - have) * 37, 1024)), dim, rng)
        batch = batch[ns_violation(batch) <= 0]
        out.append(batch)
        have += len(batch)
    return np.concatenate(out)[:n]


def uniform_canonical_simplex(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Exact uniform points of the canonical nonlocal simplex (beyond E00+E01+E10-E11 = 2)."""
    return uniform_simplex(canonical_simplex_vertices(dim), n, rng)


def uniform_directions(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors uniform on the sphere S^{dim-1}."""
    d = rng.standard_normal((n, dim))
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def canonical_facet_directions(n: int, dim: int, rng: np.random.Generator,
                               batch: int = 200_000) -> tuple[np.ndarray, int]:
    """``n`` uniform directions whose ray leaves L through the canonical CHSH facet.

    Rejection from uniform directions; returns ``(directions, drawn)`` so the share of
    such directions (about 0.21 % in 8-D per the paper) is ``n / drawn`` on average.
    """
    G, h = local_facets(dim)
    canonical_row = len(G) - len(CHSH_SIGNS)  # CHSH rows follow the NS rows, canonical first
    out, have, drawn = [], 0, 0
    while have < n:
        d = uniform_directions(batch, dim, rng)
        hit_rows = np.flatnonzero(exit_facet(d, G, h)[0] == canonical_row)
        need = n - have
        if len(hit_rows) >= need:  # stop the count at the n-th hit
            hit_rows = hit_rows[:need]
            drawn += int(hit_rows[-1]) + 1
        else:
            drawn += batch
        out.append(d[hit_rows])
        have += len(hit_rows)
    return np.concatenate(out), drawn


def to_ns_boundary(directions: np.ndarray) -> np.ndarray:
    """Scale each direction to the point where its ray leaves NS (a valid behaviour)."""
    G, h = ns_facets(directions.shape[1])
    _, t = exit_facet(directions, G, h)
    return directions * t[:, None]
