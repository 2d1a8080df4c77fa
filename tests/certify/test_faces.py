"""Faces of Q beyond the canonical facet against independent truth: Tsirelson and NPA level 3."""

import numpy as np

from chshml.certify import faces
from chshml.certify.oracle import QubitOracle
from chshml.geometry import RELABELLINGS, ns_violation
from chshml.npa.batched import BatchedGauge
from chshml.sampling.polytope import canonical_facet_directions, to_ns_boundary
from chshml.seeds import shard_rng

#: Tsirelson's atom: |Phi+>, Alice at 0 and pi/2, Bob at +-pi/4 (CHSH 2 sqrt 2, no marginals).
TSIRELSON = np.array([1, 0, 0, 1, 0, np.pi / 2, np.pi / 4, -np.pi / 4])


def test_tsirelson_ray_is_reached_and_polished_back():
    point = faces.atom_point(TSIRELSON)
    assert np.allclose(point, [0, 0, 0, 0, *(np.array([1, 1, 1, -1]) / np.sqrt(2))], atol=1e-15)
    q, half_chsh, _ = faces.facet_points(point[None])
    assert abs(half_chsh[0] - np.sqrt(2)) < 1e-15
    assert abs(faces.cone_gauge(q[0], point) - np.sqrt(2)) < 1e-12
    # from a perturbed atom the polish climbs back to Tsirelson's bound, and never above it
    start = TSIRELSON + 0.05 * np.random.default_rng(1).standard_normal(8)
    t0 = float(faces.cone_gauge(q[0], faces.atom_point(start)))
    t, params = faces.polish_atom(q[0], start)
    assert t0 < np.sqrt(2) - 1e-3
    assert np.sqrt(2) - 1e-9 < t <= np.sqrt(2) + 1e-12
    assert abs(float(faces.cone_gauge(q[0], faces.atom_point(params))) - t) == 0.0


def test_cone_weights_decompose_the_point_and_t_is_the_largest():
    rng = np.random.default_rng(2)
    params = np.hstack([rng.standard_normal((400, 4)), rng.uniform(0, 2 * np.pi, (400, 4))])
    atoms = faces.atom_point(params)
    atoms = atoms[atoms[:, 4:] @ np.array([1, 1, 1, -1.0]) > 2.01][:40]
    assert len(atoms) >= 10
    q = rng.dirichlet(np.ones(8), len(atoms)) @ faces.FACET_VERTICES   # inside the facet
    for qi, a in zip(q, atoms, strict=True):
        t = float(faces.cone_gauge(qi, a))
        w, mu = faces.cone_weights(qi, a, t)
        assert w >= 0 and mu.min() >= -1e-12 and abs(w + mu.sum() - 1) < 1e-12
        assert np.abs(w * a + mu @ faces.FACET_VERTICES - t * qi).max() < 1e-12
        # a little further along the ray the decomposition needs a negative weight
        assert faces.cone_weights(qi, a, t * (1 + 1e-6))[1].min() < 0


def test_polished_face_atoms_meet_npa_level_3_from_both_sides():
    """From a perturbed face atom the polish reaches NPA level 3's gauge, never beyond it."""
    u = to_ns_boundary(canonical_facet_directions(40, 8, shard_rng(3, "faces"))[0])
    res = BatchedGauge("3").solve(u)
    pb = res.lam[:, None] * u
    curved = res.certified & np.isfinite(res.beta).all(axis=1) & (ns_violation(pb) < -1e-7)
    assert curved.sum() >= 8
    q, half_chsh, element = faces.facet_points(pb[curved])
    beta = np.einsum("nij,nj->ni", RELABELLINGS[element], res.beta[curved])
    upper = (res.lam_hi / res.lam)[curved] * half_chsh     # certified: lam_Q(q) <= upper
    oracle, noise = QubitOracle(seed=4), np.random.default_rng(5)
    for qi, lam_q, b, hi in zip(q[:8], half_chsh[:8], beta[:8], upper[:8], strict=True):
        params = faces.witness_atom(oracle, b)
        assert params is not None
        start = params + 1e-3 * noise.standard_normal(8)
        t0 = float(faces.cone_gauge(qi, faces.atom_point(start)))
        t, _ = faces.polish_atom(qi, start)
        assert t0 < lam_q * (1 - 1e-5)          # the perturbed atom is clearly off the face
        assert t <= hi * (1 + 1e-12)            # an explicit atom never beats NPA's bound
        assert t >= lam_q * (1 - 1e-7)          # and the face's atom reaches it: Q = Q_3 here
