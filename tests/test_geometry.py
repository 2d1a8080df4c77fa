"""Conventions: NS facets, local polytope, PR boxes, relabellings, TLM and slices."""

import itertools

import numpy as np
import pytest

from chshml import geometry as g


def test_probabilities_sum_to_one_and_match_definition():
    rng = np.random.default_rng(0)
    p = rng.uniform(-0.3, 0.3, size=(20, 8))
    probs = g.probabilities(p)
    assert probs.shape == (20, 16)
    # each (x, y) block of four probabilities sums to one
    assert np.allclose(probs.reshape(20, 4, 4).sum(axis=2), 1.0)
    # P(+1,-1|x=1,y=0) = (1 + <A1> - <B0> - <A1B0>)/4
    row = [i for i, (x, y, a, b) in enumerate(itertools.product((0, 1), (0, 1), (1, -1), (1, -1)))
           if (x, y, a, b) == (1, 0, 1, -1)][0]
    expected = (1 + p[:, 1] - p[:, 2] - p[:, 6]) / 4
    assert np.allclose(probs[:, row], expected)


def test_local_points_pr_boxes_and_chsh_facets():
    assert g.LOCAL_DETERMINISTIC_POINTS.shape == (16, 8)
    assert np.allclose(g.ns_violation(g.LOCAL_DETERMINISTIC_POINTS), 0.0)
    assert np.all(g.is_local(g.LOCAL_DETERMINISTIC_POINTS))
    assert np.array_equal(g.CHSH_SIGNS[0], [1, 1, 1, -1])
    assert np.all(np.prod(g.CHSH_SIGNS, axis=1) == -1) and len(np.unique(g.CHSH_SIGNS, axis=0)) == 8
    values = g.chsh_values(g.PR_BOXES)
    assert np.allclose(np.diag(values), 4.0)  # each PR box reaches 4 on its own facet
    off = values[~np.eye(8, dtype=bool)]
    assert np.all(np.isclose(off, 0.0) | np.isclose(off, -4.0))  # -4 on the opposite facet
    assert np.allclose(g.ns_violation(g.PR_BOXES), 0.0)
    # the local polytope is the hull of the deterministic points: its facets hold on them
    G, h = g.local_facets(8)
    assert np.all(g.LOCAL_DETERMINISTIC_POINTS @ G.T <= h + 1e-12)


def test_nonlocal_simplex_vertices():
    v = g.nonlocal_simplex_vertices(0)
    assert v.shape == (9, 8)
    assert np.allclose(g.correlators(v[1:]) @ g.CHSH_SIGNS[0], 2.0)
    assert np.linalg.matrix_rank(v[1:] - v[0]) == 8  # a full-dimensional simplex


def test_relabelling_group():
    R = g.RELABELLINGS
    assert R.shape == (128, 8, 8)
    assert np.allclose(R[0], np.eye(8))
    for m in R:  # orthogonal signed permutations preserving NS
        assert np.allclose(m @ m.T, np.eye(8))
    G, h = g.ns_facets(8)
    for m in R[:: 7]:
        assert np.all(g.ns_violation(g.LOCAL_DETERMINISTIC_POINTS @ m.T) <= 1e-12)
        # the 16 probabilities are permuted, not changed
        rng = np.random.default_rng(1)
        p = rng.uniform(-0.2, 0.2, 8)
        assert np.allclose(np.sort(g.probabilities(m @ p)), np.sort(g.probabilities(p)))
    inv = g.inverse_relabelling(np.arange(128))
    assert np.allclose(np.einsum("nij,njk->nik", R, R[inv]), np.eye(8))


def test_to_canonical_maps_every_nonlocal_point_into_the_canonical_simplex():
    rng = np.random.default_rng(2)
    from chshml.sampling import uniform_ns

    p = uniform_ns(4000, 8, rng)
    nonlocal_ = p[~g.is_local(p)]
    assert len(nonlocal_) > 100
    mapped, element = g.to_canonical(nonlocal_)
    assert np.all(g.chsh_values(mapped)[:, 0] > 2)
    assert np.allclose(g.from_canonical(mapped, element), nonlocal_)
    # each PR box goes to the canonical one
    mapped_pr, _ = g.to_canonical(g.PR_BOXES)
    assert np.allclose(mapped_pr, g.PR_BOXES[0])


def satisfies_tlm(points: np.ndarray, tol: float = 0.0) -> np.ndarray:
    """True where the TLM inequalities hold (up to ``tol`` in the angle sum)."""
    return g.tlm_margin(points) >= -tol


def test_tlm_on_known_points():
    tsirelson = g.CHSH_SIGNS[0] / np.sqrt(2)
    assert abs(g.tlm_margin(tsirelson)) < 1e-12
    assert satisfies_tlm(0.999 * tsirelson) and not satisfies_tlm(1.001 * tsirelson)
    assert np.allclose(g.tlm_gauge(g.CHSH_SIGNS), 1 / np.sqrt(2))
    # local deterministic correlators are quantum
    assert np.all(satisfies_tlm(g.LOCAL_DETERMINISTIC_POINTS, tol=1e-12))


def test_tlm_labels_are_exact_and_zero_outside_ns():
    tsirelson = g.CHSH_SIGNS[0] / np.sqrt(2)
    pts = np.array([0.999 * tsirelson, 1.001 * tsirelson, [1.2, 0.0, 0.0, 0.0], np.zeros(4)])
    np.testing.assert_array_equal(g.tlm_labels(pts), [1, 0, 0, 1])
    assert g.tlm_labels(pts).dtype == np.int8


def test_to_corr_inverts_to_full():
    rng = np.random.default_rng(7)
    e = rng.uniform(-1, 1, (5, 4))
    assert np.array_equal(g.to_corr(g.to_full(e)), e)
    assert np.array_equal(g.to_corr(e), e)
    p = rng.uniform(-0.2, 0.2, (3, 8))
    assert np.array_equal(g.to_corr(p), g.correlators(p))
    with pytest.raises(ValueError):
        g.to_corr(np.zeros((2, 5)))


def test_canonical_simplex_vertices_in_both_spaces():
    v8 = g.canonical_simplex_vertices(8)
    assert np.array_equal(v8, g.nonlocal_simplex_vertices(0))
    v4 = g.canonical_simplex_vertices(4)
    assert v4.shape == (5, 4) and np.array_equal(v4[0], g.CANONICAL_CHSH_SIGNS)
    assert np.allclose(v4[1:] @ g.CANONICAL_CHSH_SIGNS, 2.0)  # on the canonical CHSH facet
    assert len(np.unique(v4, axis=0)) == 5


def test_simplex_stabiliser_fixes_the_canonical_facet():
    stab = g.SIMPLEX_STABILISER
    assert len(stab) == 16 and any(np.array_equal(m, np.eye(8)) for m in stab)
    normal = g.to_full(g.CANONICAL_CHSH_SIGNS)
    assert np.allclose(stab @ normal, normal)
    verts = g.nonlocal_simplex_vertices(0)
    for m in stab:  # each maps the simplex's vertex set onto itself
        assert {tuple(v) for v in verts @ m.T} == {tuple(v) for v in verts}


@pytest.mark.parametrize("name", sorted(g.SLICES))
def test_slices(name):
    s = g.SLICES[name]
    xy, pts = s.grid(11)
    assert pts.shape == (121, s.dim)
    rng = np.random.default_rng(3)
    xy, pts = s.uniform(500, rng)
    assert np.all(g.ns_violation(pts) <= 1e-12)
    assert np.allclose(s.embed(xy), pts)


def test_slice1_contains_two_orthogonal_pr_boxes():
    s = g.SLICES["slice1"]
    a, b = s.embed(np.array([[2.0, 0.0]]))[0], s.embed(np.array([[0.0, 2.0]]))[0]
    assert abs(a @ b) < 1e-12
    assert any(np.allclose(a, pr) for pr in g.CHSH_SIGNS)
    assert any(np.allclose(b, pr) for pr in g.CHSH_SIGNS)
