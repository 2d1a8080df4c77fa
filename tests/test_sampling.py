"""Samplers: hit-and-run against exact samplers, reproducibility, boundary, spread, balance."""

from functools import partial

import numpy as np
import pytest
from scipy import stats

from chshml import geometry as g
from chshml.npa import label_points
from chshml.sampling import labelled, polytope
from chshml.seeds import shard_rng

P_MIN = 1e-3  # KS p-value below which two samples are declared different


def _projections(dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rand = rng.standard_normal((3, dim))
    return np.vstack([np.eye(dim), rand / np.linalg.norm(rand, axis=1, keepdims=True)])


def _min_ks_pvalue(a: np.ndarray, b: np.ndarray) -> float:
    return min(stats.ks_2samp(a @ v, b @ v).pvalue for v in _projections(a.shape[1]))


def test_hit_and_run_matches_exact_ns_sampler_in_8d():
    G, h = g.ns_facets(8)
    har = polytope.hit_and_run(G, h, 4000, shard_rng(1, "har"))
    exact = polytope.uniform_ns(4000, 8, shard_rng(1, "exact"))
    assert np.all(g.ns_violation(har) <= 1e-12)
    assert _min_ks_pvalue(har, exact) > P_MIN
    # the test has power: the cube is not NS
    assert _min_ks_pvalue(polytope.uniform_cube(4000, 8, shard_rng(1, "cube")), exact) < P_MIN


def test_hit_and_run_matches_dirichlet_in_the_canonical_simplex():
    v = g.canonical_simplex_vertices(8)
    G, h = g.simplex_facets(v)
    assert np.all(v @ G.T <= h + 1e-9)
    har = polytope.hit_and_run(G, h, 3000, shard_rng(2, "har"), x0=v.mean(axis=0))
    exact = polytope.uniform_canonical_simplex(3000, 8, shard_rng(2, "dir"))
    assert np.all(g.chsh_values(exact)[:, 0] >= 2 - 1e-12)
    assert _min_ks_pvalue(har, exact) > P_MIN


def test_same_seed_same_samples_and_shards_independent():
    a = polytope.uniform_ns(50, 8, shard_rng(3, "d", 0))
    b = polytope.uniform_ns(50, 8, shard_rng(3, "d", 0))
    c = polytope.uniform_ns(50, 8, shard_rng(3, "d", 1))
    d = polytope.uniform_ns(50, 8, shard_rng(3, "e", 0))
    assert np.array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a, d)


def test_canonical_facet_directions_exit_through_the_canonical_facet():
    d, drawn = polytope.canonical_facet_directions(100, 8, shard_rng(4))
    G, h = g.local_facets(8)
    facet, t = polytope.exit_facet(d, G, h)
    assert np.all(facet == len(G) - 8)
    exit_points = d * t[:, None]
    assert np.allclose(g.chsh_values(exit_points)[:, 0], 2.0)
    share = 100 / drawn
    assert 0.001 < share < 0.005  # the paper reports about 0.21 %


def test_boundary_pairs_and_spread_agree_with_tlm_in_4d():
    label_fn = partial(label_points, level="1")
    rng = shard_rng(5)
    pb, counts = labelled.boundary_points(60, 4, rng, label_fn, canonical=False,
                                            recipe="ns_interior")
    assert np.allclose(g.tlm_gauge(pb), 1.0, atol=1e-6)
    assert np.all(g.ns_violation(pb) < 0)
    pairs = labelled.offset_pairs(pb, 1e-3)
    assert np.array_equal(pairs.label, (g.tlm_margin(pairs.points) >= 0).astype(np.int8))
    spread = labelled.spread_set(pb, 1e-2, rng)
    assert np.array_equal(spread.label, (g.tlm_margin(spread.points) >= 0).astype(np.int8))
    assert counts["on_ns_facet"] > 0  # in 4-D many rays leave Q through a cube face


def test_surface_weights_make_a_square_perimeter_uniform():
    """Independent check of the surface reweighting on the square [-1, 1]^2."""
    rng = np.random.default_rng(6)
    u = polytope.uniform_directions(200_000, 2, rng)
    r = 1 / np.max(np.abs(u), axis=1)
    pb = u * r[:, None]
    normals = np.where(np.abs(u[:, :1]) >= np.abs(u[:, 1:]), [1.0, 0.0], [0.0, 1.0]) * np.sign(pb)
    w = labelled.surface_weights(pb, normals)
    keep = rng.uniform(size=len(w)) < w / w.max()
    right = pb[keep & (np.abs(pb[:, 0] - 1) < 1e-12)][:, 1]  # position along the side x = 1
    assert stats.kstest(right, stats.uniform(-1, 2).cdf).pvalue > P_MIN
    unweighted = pb[np.abs(pb[:, 0] - 1) < 1e-12][:, 1]
    assert stats.kstest(unweighted, stats.uniform(-1, 2).cdf).pvalue < P_MIN


def test_balanced_set_has_equal_classes():
    rng = shard_rng(7)
    s = labelled.balanced(40, partial(polytope.uniform_canonical_simplex, dim=8, rng=rng),
                          partial(label_points, level="1+AB"))
    assert np.bincount(s.label).tolist() == [20, 20]
    assert np.array_equal(label_points(s.points, "1+AB").label, s.label)
    with pytest.raises(ValueError):
        labelled.balanced(3, lambda k: np.zeros((k, 8)), partial(label_points, level="1"))
