"""chshml.npa.labelling: certified labels against Tsirelson, TLM and qubit realisations."""

import numpy as np
import pytest

from chshml import geometry as g
from chshml.npa import label_points, moment_map
from chshml.npa.certificate import inner_gauge, outer_gauge, witness_from_dual
from chshml.npa.labelling import decide

TOL = 1e-6


def test_tsirelson_bound_at_1ab():
    res = label_points(g.PR_BOXES, "1+AB", solver="clarabel")
    assert np.allclose(res.lam, 1 / np.sqrt(2), atol=1e-6)
    assert np.all(res.lam_lo <= 1 / np.sqrt(2) + 1e-12)
    assert np.all(res.lam_hi >= 1 / np.sqrt(2) - 1e-12)
    assert np.all(res.label == 0)


def test_level1_matches_tlm_on_uniform_and_near_boundary_points():
    rng = np.random.default_rng(5)
    uniform = rng.uniform(-1, 1, size=(5000, 4))
    u = rng.standard_normal((6000, 4))
    near = (g.tlm_gauge(u) * (1 + rng.uniform(-1e-3, 1e-3, len(u))))[:, None] * u
    near = near[g.ns_violation(near) <= 0][:2000]
    # keep only points whose exact TLM boundary lies inside the cube (quantum-boundary points)
    assert len(near) == 2000
    pts = np.vstack([uniform, near])
    res = label_points(pts, "1")
    exact = g.tlm_gauge(pts)
    far = np.abs(exact - 1) >= 2 * TOL
    assert far.sum() > 6500
    assert np.array_equal(res.label[far], (exact[far] >= 1).astype(np.int8))
    finite = np.isfinite(exact) & (exact < 1e3)
    assert np.max(np.abs(res.lam[finite] - exact[finite]) / exact[finite]) < 1e-6
    # the certified bracket contains the exact value
    assert np.all(res.lam_lo[finite] <= exact[finite] * (1 + 1e-9))
    assert np.all(res.lam_hi[finite] >= exact[finite] * (1 - 1e-9))


@pytest.mark.parametrize(("level", "count"), [("1", 500), ("1+AB", 500), ("2", 500), ("3", 60),
                                              ("4", 8)])
def test_qubit_realisations_are_quantum_and_scaled_copies_are_not(qubit_points, level, count):
    pts = qubit_points[:count]
    res = label_points(pts, level)
    assert np.all(res.label == 1), res.status[res.label != 1]
    beyond = (res.lam * (1 + 1e-3))[:, None] * pts
    beyond = beyond[g.ns_violation(beyond) <= 0]  # the scaled copy must still be a behaviour
    res2 = label_points(beyond, level)
    assert np.all(res2.label == 0)


def test_levels_are_nested_and_relabelling_invariant():
    rng = np.random.default_rng(7)
    from chshml.sampling import uniform_canonical_simplex

    pts = uniform_canonical_simplex(40, 8, rng)
    lams = [label_points(pts, lv, solver="clarabel").lam for lv in ("1", "1+AB", "2", "3")]
    for outer, inner in zip(lams[:-1], lams[1:], strict=True):
        assert np.all(outer >= inner - 1e-7)
    assert np.any(lams[0] > lams[1] + 1e-4)  # the hierarchy is strict somewhere
    ref = lams[1]
    for element in (5, 17, 64, 127):
        moved = g.apply_relabelling(pts, element)
        assert np.allclose(label_points(moved, "1+AB").lam, ref, atol=1e-7)


def test_brackets_are_rigorous_for_perturbed_solutions():
    """The inner bound stays feasible and the outer bound valid for any (even bad) input."""
    mm = moment_map("1+AB")
    p = g.PR_BOXES[0]
    rng = np.random.default_rng(3)
    truth = 1 / np.sqrt(2)
    for _ in range(50):
        lam_lo = inner_gauge(mm, p, truth * (1 + rng.uniform(0, 0.1)),
                             rng.uniform(-0.5, 0.5, mm.n_free))
        assert lam_lo <= truth + 1e-12
        z = rng.standard_normal((9, 9))
        w = witness_from_dual(mm, z @ z.T, rng.uniform(0, 1, 16))
        assert outer_gauge(w, p) >= truth - 1e-12
        # the functional holds on local points (which are in every Q_n)
        assert np.all(g.LOCAL_DETERMINISTIC_POINTS @ w.beta <= w.beta0 + 1e-9)


def test_decide_rule():
    lam = np.array([1.1, 0.9, 1 + 1e-7, 1.1, np.inf])
    width = np.array([0, 0, 0, 1e-3, np.nan])
    assert decide(lam, width, 1e-6).tolist() == [1, 0, -1, -1, 1]


def test_origin_is_quantum():
    res = label_points(np.zeros((1, 8)), "1+AB")
    assert res.label[0] == 1 and np.isinf(res.lam[0])
