"""chshml.sampling.polytope: exact and hit-and-run samplers of NS and the canonical simplex."""


import numpy as np
from scipy import stats

from chshml import geometry as g
from chshml.sampling import polytope
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
    facet, t = g.exit_facet(d, G, h)
    assert np.all(facet == len(G) - 8)
    exit_points = d * t[:, None]
    assert np.allclose(g.chsh_values(exit_points)[:, 0], 2.0)
    share = 100 / drawn
    assert 0.001 < share < 0.005  # the paper reports about 0.21 %
