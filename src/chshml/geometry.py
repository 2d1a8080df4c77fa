"""CHSH geometry: coordinates, NS facets, local polytope, PR boxes, relabellings, TLM, slices.

Conventions (fixed project-wide, see DESIGN.md §1):

* full space, D = 8: ``p = (<A0>, <A1>, <B0>, <B1>, <A0B0>, <A0B1>, <A1B0>, <A1B1>)``;
* correlation space, D = 4: ``(<A0B0>, <A0B1>, <A1B0>, <A1B1>)`` with zero marginals;
* ``P(a,b|x,y) = (1 + a<Ax> + b<By> + ab<AxBy>) / 4`` with ``a, b in {+1, -1}``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

FULL_DIM = 8
CORR_DIM = 4
SPACES = {"corr4": CORR_DIM, "full8": FULL_DIM}

#: Correlator sign vector of the canonical CHSH facet ``E00 + E01 + E10 - E11 <= 2``.
CANONICAL_CHSH_SIGNS = np.array([1.0, 1.0, 1.0, -1.0])


def space_of_dim(dim: int) -> str:
    """Name of the space ("corr4" or "full8") whose points have ``dim`` coordinates."""
    for name, d in SPACES.items():
        if d == dim:
            return name
    raise ValueError(f"points must have 4 (corr4) or 8 (full8) coordinates, got {dim}")


def correlator_index(x: int, y: int) -> int:
    """Index of <AxBy> in the full 8-D coordinates."""
    return 4 + 2 * x + y


def to_full(points: np.ndarray) -> np.ndarray:
    """Embed behaviours in the 8-D full space (4-D points get zero marginals)."""
    points = np.asarray(points, dtype=float)
    if points.shape[-1] == FULL_DIM:
        return points
    if points.shape[-1] != CORR_DIM:
        raise ValueError(f"points must have 4 or 8 coordinates, got {points.shape[-1]}")
    full = np.zeros(points.shape[:-1] + (FULL_DIM,))
    full[..., 4:] = points
    return full


def to_corr(points: np.ndarray) -> np.ndarray:
    """The correlation-space part of behaviours: 8-D points lose their marginals (the
    inverse of :func:`to_full` on zero-marginal points); 4-D points are returned as given.
    """
    points = np.asarray(points, dtype=float)
    if points.shape[-1] == CORR_DIM:
        return points
    if points.shape[-1] != FULL_DIM:
        raise ValueError(f"points must have 4 or 8 coordinates, got {points.shape[-1]}")
    return points[..., 4:]


def correlators(points: np.ndarray) -> np.ndarray:
    """The four correlators ``<AxBy>`` of 4-D or 8-D behaviours."""
    points = np.asarray(points, dtype=float)
    return points[..., -CORR_DIM:]


# ---------------------------------------------------------------------------
# Non-signalling polytope
# ---------------------------------------------------------------------------

def _ns_facets() -> tuple[np.ndarray, np.ndarray]:
    """H-representation ``G p <= h`` of NS in 8-D: ``P(a,b|x,y) >= 0`` for all a, b, x, y."""
    rows = []
    for x, y, a, b in itertools.product((0, 1), (0, 1), (1, -1), (1, -1)):
        row = np.zeros(FULL_DIM)
        row[x] = -a
        row[2 + y] = -b
        row[correlator_index(x, y)] = -a * b
        rows.append(row)
    return np.array(rows), np.ones(len(rows))


NS_FACETS_G, NS_FACETS_H = _ns_facets()


def exit_facet(directions: np.ndarray, G: np.ndarray, h: np.ndarray) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """For rays from the origin: the facet index where each leaves ``{Gx <= h}`` and the exit
    distance.
    """
    rate = directions @ G.T
    with np.errstate(divide="ignore"):
        t = np.where(rate > 0, h / rate, np.inf)
    facet = np.argmin(t, axis=1)
    return facet, t[np.arange(len(t)), facet]


def ns_gauge(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``lam_ns = max{lam : lam p in NS}`` and the index of the facet that binds it.

    Parameters
    ----------
    points : ndarray, shape (n, 8)
        Behaviours.

    Returns
    -------
    lam_ns : ndarray, shape (n,)
        The NS gauges (inf at the origin).
    facet : ndarray of int, shape (n,)
        Row of ``NS_FACETS_G`` that binds each gauge.
    """
    facet, lam_ns = exit_facet(points, NS_FACETS_G, NS_FACETS_H)
    return lam_ns, facet


#: A boundary point whose gauge is within this relative distance of NS's counts as lying on
#: an NS facet (gauge models, and ``chshml sample --curved-at``).
NS_FACET_RTOL = 2e-6

#: In 4-D the NS polytope is the cube [-1, 1]^4.
CUBE4_G = np.vstack([np.eye(CORR_DIM), -np.eye(CORR_DIM)])
CUBE4_H = np.ones(2 * CORR_DIM)


def ns_facets(dim: int) -> tuple[np.ndarray, np.ndarray]:
    """``(G, h)`` with NS = {p : G p <= h} in the 4-D or 8-D space."""
    if dim == FULL_DIM:
        return NS_FACETS_G.copy(), NS_FACETS_H.copy()
    if dim == CORR_DIM:
        return CUBE4_G.copy(), CUBE4_H.copy()
    raise ValueError(f"dimension must be 4 or 8, got {dim}")


def probabilities(points: np.ndarray) -> np.ndarray:
    """The 16 probabilities ``P(a,b|x,y)`` in the order of :data:`NS_FACETS_G` rows."""
    full = to_full(points)
    return (1.0 - full @ NS_FACETS_G.T) / 4.0


def ns_violation(points: np.ndarray) -> np.ndarray:
    """Largest violation ``max(G p - h)`` of the NS facets (<= 0 inside NS)."""
    points = np.asarray(points, dtype=float)
    g, h = ns_facets(points.shape[-1])
    return np.max(points @ g.T - h, axis=-1)


# ---------------------------------------------------------------------------
# Local polytope, CHSH facets, PR boxes
# ---------------------------------------------------------------------------

def _deterministic_points() -> np.ndarray:
    pts = []
    for a0, a1, b0, b1 in itertools.product((1, -1), repeat=4):
        pts.append([a0, a1, b0, b1, a0 * b0, a0 * b1, a1 * b0, a1 * b1])
    return np.array(pts, dtype=float)


#: Exact vol(L)/vol(NS) in 8-D: NS is L plus 8 simplices each of volume vol(L)/128.
VOLUME_L8_EXACT = 16 / 17

#: The 16 local deterministic behaviours (8-D).
LOCAL_DETERMINISTIC_POINTS = _deterministic_points()

#: Sign vectors ``s`` (odd number of minus signs) of the 8 CHSH facets ``s . E <= 2``;
#: row 0 is the canonical facet.
CHSH_SIGNS = np.array(
    [s for s in itertools.product((1.0, -1.0), repeat=4) if np.prod(s) < 0][::-1], dtype=float
)
CHSH_SIGNS = CHSH_SIGNS[np.argsort([0 if np.array_equal(s, CANONICAL_CHSH_SIGNS) else 1
                                    for s in CHSH_SIGNS], kind="stable")]

#: The 8 PR boxes (8-D): zero marginals, correlators equal to a CHSH sign vector.
PR_BOXES = to_full(CHSH_SIGNS)


def chsh_values(points: np.ndarray) -> np.ndarray:
    """The 8 CHSH expressions ``s . E`` of each behaviour (local bound 2, Tsirelson 2 sqrt 2)."""
    return correlators(points) @ CHSH_SIGNS.T


def is_local(points: np.ndarray, tol: float = 0.0) -> np.ndarray:
    """True for NS behaviours inside the local polytope (no CHSH facet violated)."""
    return np.max(chsh_values(points), axis=-1) <= 2.0 + tol


def local_facets(dim: int) -> tuple[np.ndarray, np.ndarray]:
    """``(G, h)`` of the local polytope: NS positivity facets plus the 8 CHSH facets."""
    g, h = ns_facets(dim)
    chsh = CHSH_SIGNS if dim == CORR_DIM else to_full(CHSH_SIGNS)
    return np.vstack([g, chsh]), np.concatenate([h, np.full(len(chsh), 2.0)])


def nonlocal_simplex_vertices(facet: int = 0) -> np.ndarray:
    """Vertices (9 x 8) of the nonlocal simplex beyond CHSH facet ``facet``.

    Row 0 is the PR box; rows 1..8 are the deterministic points saturating the facet.
    """
    signs = CHSH_SIGNS[facet]
    on_facet = LOCAL_DETERMINISTIC_POINTS[
        np.isclose(correlators(LOCAL_DETERMINISTIC_POINTS) @ signs, 2.0)
    ]
    return np.vstack([PR_BOXES[facet], on_facet])


def canonical_simplex_vertices(dim: int) -> np.ndarray:
    """Vertices of the canonical nonlocal simplex (beyond ``E00 + E01 + E10 - E11 = 2``).

    8-D: the PR box and the 8 deterministic points on the canonical CHSH facet (9 x 8);
    4-D: the PR box's correlators and the 4 distinct correlator vectors on it (5 x 4).
    """
    if dim == FULL_DIM:
        return nonlocal_simplex_vertices(0)
    local = np.unique(correlators(LOCAL_DETERMINISTIC_POINTS), axis=0)
    on_facet = local[np.isclose(local @ CHSH_SIGNS[0], 2.0)]
    return np.vstack([CHSH_SIGNS[0], on_facet])


def simplex_facets(vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """H-representation ``(G, h)``, ``G x <= h``, of a full-dimensional simplex.

    ``vertices`` has shape (dim + 1, dim); facet ``i`` is the hyperplane through all vertices
    but the ``i``-th, oriented so that the ``i``-th vertex satisfies it.
    """
    dim = vertices.shape[1]
    rows, rhs = [], []
    for i in range(dim + 1):
        others = np.delete(vertices, i, axis=0)
        normal = np.linalg.svd(np.column_stack([others, np.ones(dim)]))[2][-1]
        a, b = normal[:dim], -normal[dim]
        if a @ vertices[i] > b:
            a, b = -a, -b
        rows.append(a)
        rhs.append(b)
    return np.array(rows), np.array(rhs)

# ---------------------------------------------------------------------------
# Relabelling group: outcome flips, input swaps, party swap (128 elements)
# ---------------------------------------------------------------------------

def _generator_matrices() -> list[np.ndarray]:
    """Signed permutations of the 8 coordinates generating the relabelling group."""
    gens = []
    for party, inp in itertools.product((0, 1), (0, 1)):  # flip the outcome of one observable
        m = np.eye(FULL_DIM)
        letter = 2 * party + inp
        m[letter, letter] = -1.0
        for x, y in itertools.product((0, 1), (0, 1)):
            if (party == 0 and x == inp) or (party == 1 and y == inp):
                k = correlator_index(x, y)
                m[k, k] = -1.0
        gens.append(m)

    def permutation(mapping: dict[int, int]) -> np.ndarray:
        m = np.zeros((FULL_DIM, FULL_DIM))
        for new, old in mapping.items():
            m[new, old] = 1.0
        return m

    # swap Alice's inputs: A0 <-> A1, A0By <-> A1By
    gens.append(permutation({0: 1, 1: 0, 2: 2, 3: 3, 4: 6, 5: 7, 6: 4, 7: 5}))
    # swap the parties: Ax <-> Bx, AxBy <-> AyBx
    gens.append(permutation({0: 2, 1: 3, 2: 0, 3: 1, 4: 4, 5: 6, 6: 5, 7: 7}))
    return gens


def _group_closure(generators: list[np.ndarray]) -> np.ndarray:
    elements = [np.eye(FULL_DIM)]
    seen = {np.eye(FULL_DIM).tobytes()}
    frontier = list(elements)
    while frontier:
        new = []
        for g in frontier:
            for s in generators:
                h = s @ g
                key = h.tobytes()
                if key not in seen:
                    seen.add(key)
                    new.append(h)
        elements.extend(new)
        frontier = new
    return np.array(elements)


#: All 128 relabellings as orthogonal 8 x 8 signed permutation matrices (index 0: identity).
RELABELLINGS = _group_closure(_generator_matrices())


def _canonicalisers() -> np.ndarray:
    """For each CHSH facet, the index of a relabelling that maps it onto the canonical one."""
    normals = to_full(CHSH_SIGNS)
    out = np.empty(len(CHSH_SIGNS), dtype=int)
    for facet, n in enumerate(normals):
        images = RELABELLINGS @ n
        out[facet] = int(np.flatnonzero(np.all(np.isclose(images, normals[0]), axis=1))[0])
    return out


CANONICALISER = _canonicalisers()


def apply_relabelling(points: np.ndarray, element: np.ndarray | int) -> np.ndarray:
    """Apply relabelling(s) ``element`` (index or per-point indices) to 4-D or 8-D points."""
    points = np.asarray(points, dtype=float)
    dim = points.shape[-1]
    full = to_full(points)
    mats = RELABELLINGS[np.asarray(element)]
    if mats.ndim == 2:
        out = full @ mats.T
    else:
        out = np.einsum("nij,nj->ni", mats, full)
    return out if dim == FULL_DIM else to_corr(out)


def inverse_relabelling(element: np.ndarray | int) -> np.ndarray:
    """Index (or indices) of the inverse relabelling."""
    element = np.atleast_1d(np.asarray(element))
    inverses = RELABELLINGS[element].transpose(0, 2, 1)
    flat = RELABELLINGS.reshape(len(RELABELLINGS), -1)
    idx = np.array([int(np.flatnonzero(np.all(flat == inv.reshape(-1), axis=1))[0])
                    for inv in inverses])
    return idx


def to_canonical(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map behaviours to the side of the canonical CHSH facet ``E00+E01+E10-E11 <= 2``.

    Each point is moved by the relabelling that sends its most violated (for local points:
    least slack) CHSH facet to the canonical one; a nonlocal NS point lands in the canonical
    nonlocal simplex. Returns ``(mapped, element)``; :func:`from_canonical` undoes it.
    """
    points = np.asarray(points, dtype=float)
    facet = np.argmax(chsh_values(points), axis=-1)
    element = CANONICALISER[facet]
    return apply_relabelling(points, element), element


def from_canonical(points: np.ndarray, element: np.ndarray) -> np.ndarray:
    """Undo :func:`to_canonical` given the relabelling indices it returned."""
    return apply_relabelling(points, inverse_relabelling(element))


#: The 16 relabellings that map the canonical CHSH facet (and its simplex) onto itself.
SIMPLEX_STABILISER = RELABELLINGS[np.all(np.isclose(RELABELLINGS @ to_full(CANONICAL_CHSH_SIGNS),
                                                    to_full(CANONICAL_CHSH_SIGNS)), axis=1)]


def fundamental_domain(points: np.ndarray) -> np.ndarray:
    """One representative per relabelling orbit of nonlocal 8-D behaviours.

    Maps each point onto the canonical nonlocal simplex (the paper's scheme), then picks the
    lexicographically largest of its images under the simplex's own 16 symmetries
    (:data:`SIMPLEX_STABILISER`). Signed permutations are exact in floating point, so a point
    and all its relabelled images get the same representative.
    """
    canon, _ = to_canonical(np.asarray(points, dtype=float))
    images = np.einsum("gij,nj->ngi", SIMPLEX_STABILISER, canon)
    return lexicographic_largest(images, np.ones(images.shape[:2], dtype=bool))


def lexicographic_largest(images: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Per point, the lexicographically largest of its candidate images.

    Parameters
    ----------
    images : ndarray, shape (n, g, d)
        Images of each point under ``g`` symmetries.
    candidates : ndarray of bool, shape (n, g)
        Images allowed to represent each point (at least one per row).

    Returns
    -------
    ndarray, shape (n, d)
        One image per point; exact, so all images of one orbit pick the same one.
    """
    candidates = candidates.copy()
    for k in range(images.shape[2]):
        col = np.where(candidates, images[:, :, k], -np.inf)
        candidates &= col == col.max(axis=1, keepdims=True)
    return images[np.arange(len(images)), np.argmax(candidates, axis=1)]


# ---------------------------------------------------------------------------
# TLM criterion (exact in 4-D, necessary in 8-D)
# ---------------------------------------------------------------------------

def tlm_margin(points: np.ndarray) -> np.ndarray:
    """``pi - max_s |sum_i s_i asin E_i|`` over the 4 sign placements; >= 0 iff TLM holds.

    In the correlation space this decides quantumness exactly (Tsirelson-Landau-Masanes).
    """
    e = np.clip(correlators(points), -1.0, 1.0)
    angles = np.arcsin(e)
    signs = np.ones((4, 4)) - 2 * np.eye(4)[::-1]  # minus sign at each position in turn
    sums = np.abs(angles @ signs.T)
    return np.pi - np.max(sums, axis=-1)


def tlm_labels(points: np.ndarray) -> np.ndarray:
    """Exact quantum labels of zero-marginal behaviours (TLM): 1 quantum, 0 not.

    A point outside NS (some ``|E| > 1``) is no behaviour and gets 0 (TLM itself clips).
    """
    pts = np.asarray(points, dtype=float)
    inside = ns_violation(pts) <= 1e-12
    return ((tlm_margin(pts) >= 0) & inside).astype(np.int8)


def tlm_gauge(directions: np.ndarray, iterations: int = 80) -> np.ndarray:
    """Largest ``lam`` with ``lam u`` in Q (4-D, TLM ∩ cube), by bisection; exact to ~1e-15.

    TLM regions are star-shaped around the origin, so bisection along the ray is valid.
    """
    u = correlators(directions)
    lo = np.zeros(u.shape[:-1])
    hi = 1.0 / np.max(np.abs(u), axis=-1)  # the ray leaves the cube here
    inside_at_hi = tlm_margin(hi[..., None] * u) >= 0
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        ok = tlm_margin(mid[..., None] * u) >= 0
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    return np.where(inside_at_hi, 1.0 / np.max(np.abs(u), axis=-1), lo)


# ---------------------------------------------------------------------------
# 2-D slices (paper Figs. 3-5)
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Slice:
    """A plane ``origin + x*u + y*v`` in behaviour space, over a rectangle of (x, y)."""

    name: str
    origin: np.ndarray
    u: np.ndarray
    v: np.ndarray
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    description: str = ""

    @property
    def dim(self) -> int:
        return len(self.origin)

    def embed(self, xy: np.ndarray) -> np.ndarray:
        """Behaviours at slice coordinates ``xy`` (n x 2)."""
        xy = np.asarray(xy, dtype=float)
        return self.origin + xy[..., :1] * self.u + xy[..., 1:2] * self.v

    def grid(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """A regular ``n x n`` grid: returns ``(xy, points)`` with ``n*n`` rows each."""
        xs = np.linspace(*self.x_range, n)
        ys = np.linspace(*self.y_range, n)
        xx, yy = np.meshgrid(xs, ys)
        xy = np.column_stack([xx.ravel(), yy.ravel()])
        return xy, self.embed(xy)

    def uniform(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` uniform points of the rectangle that lie in NS: ``(xy, points)``."""
        chunks, total = [], 0
        while total < n:
            xy = np.column_stack([rng.uniform(*self.x_range, 2 * n), rng.uniform(*self.y_range,
                                                                               2 * n)])
            xy = xy[ns_violation(self.embed(xy)) <= 0]
            chunks.append(xy)
            total += len(xy)
        xy = np.concatenate(chunks)[:n]
        return xy, self.embed(xy)


def _slices() -> dict[str, Slice]:
    pr_a = CANONICAL_CHSH_SIGNS / 2.0  # rescaled so the square [-2, 2]^2 covers the cube
    pr_b = np.array([1.0, -1.0, 1.0, 1.0]) / 2.0  # orthogonal PR box (pr_a . pr_b = 0)
    return {
        "slice1": Slice(
            "slice1", np.zeros(4), pr_a, pr_b, (-2.0, 2.0), (-2.0, 2.0),
            "4-D plane through the two orthogonal PR boxes (1,1,1,-1) and (1,-1,1,1) "
            "at (x, y) = (2, 0) and (0, 2)",
        ),
        "slice2": Slice(
            "slice2", np.zeros(4), np.array([1.0, 1.0, 1.0, 0.0]), np.array([0.0, 0.0, 0.0, 1.0]),
            (-1.0, 1.0), (-1.0, 1.0), "4-D plane <A0B0> = <A0B1> = <A1B0> = x, <A1B1> = y",
        ),
        # Equal marginals m on all four observables and correlators along the canonical PR box.
        # TLM sees only the correlators, so its boundary is the line x = 1/sqrt(2) for every m,
        # while quantum behaviours with biased marginals cannot reach Tsirelson's bound (maximal
        # CHSH violation self-tests unbiased marginals): the true boundary bends inward as |m|
        # grows, and the gap to TLM is visible across the whole plane.
        "slice8": Slice(
            "slice8", np.zeros(8), to_full(CANONICAL_CHSH_SIGNS), np.array([1.0] * 4 + [0.0] * 4),
            (-1.0, 1.0), (-1.0, 1.0),
            "8-D plane: correlators x*(1,1,1,-1), all four marginals equal to y",
        ),
    }


SLICES = _slices()
