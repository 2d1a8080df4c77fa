"""chshml.sampling.labelled: boundary pairs, spread and balanced sets against exact TLM labels."""

from functools import partial

import numpy as np
import pytest
from scipy import stats

from chshml import geometry as g
from chshml.npa import label_points
from chshml.sampling import labelled, polytope
from chshml.seeds import shard_rng

P_MIN = 1e-3  # KS p-value below which two samples are declared different


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
