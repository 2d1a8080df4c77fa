"""Column generation over atoms: decompositions of known quantum points, refusals outside Q."""

import numpy as np
from _helpers import qubit_realisations

from chshml import geometry as g
from chshml.certify.atoms import behaviours
from chshml.certify.hull import MAX_ATOMS, HullSolver, caratheodory, check, refine
from chshml.certify.oracle import QubitOracle


def nonlocal_qubit_points(n, seed):
    """Pure-state qubit behaviours that violate CHSH (extreme points of Q, beyond L)."""
    out = qubit_realisations(300 * n, seed=seed, min_mix=0.0)
    return out[~g.is_local(out)][:n]


def assert_valid(p, dec):
    assert dec is not None
    assert 1 <= dec.n_atoms <= MAX_ATOMS
    assert np.all(dec.weights >= 0) and abs(dec.weights.sum() - 1) < 1e-12
    assert np.allclose(np.linalg.norm(dec.states, axis=1), 1.0, atol=1e-12)
    assert np.abs(dec.weights @ behaviours(dec.states, dec.angles) - p).max() <= 1e-9


def test_mixtures_of_known_qubit_points_are_decomposed():
    rng = np.random.default_rng(1)
    extreme = nonlocal_qubit_points(12, seed=2)
    assert len(extreme) >= 10
    solver = HullSolver(QubitOracle(seed=3))
    pure = qubit_realisations(4, seed=9, min_mix=0.0)           # boundary points of Q (local)
    targets = list(extreme[:4]) + list(pure)                     # extreme points themselves
    for _ in range(8):                                           # mixtures of 2-4 of them
        k = rng.integers(2, 5)
        w = rng.dirichlet(np.ones(k))
        targets.append(w @ extreme[rng.choice(len(extreme), k, replace=False)])
    targets.append(g.PR_BOXES[0] / np.sqrt(2))                   # the Tsirelson point
    for p in targets:
        res = solver.decompose(p)
        assert_valid(p, res.decomposition)


def test_deterministic_points_need_one_atom():
    solver = HullSolver(QubitOracle(seed=4))
    for p in g.LOCAL_DETERMINISTIC_POINTS:
        dec = solver.decompose(p).decomposition
        assert_valid(p, dec)
        assert dec.n_atoms == 1 and dec.weights[0] == 1.0


def test_points_outside_q_are_never_decomposed():
    solver = HullSolver(QubitOracle(seed=5), max_iter=40)
    outside = [g.PR_BOXES[0], g.PR_BOXES[3], 0.72 * g.PR_BOXES[0] + 0.0,
               (1 + 1e-3) * g.PR_BOXES[0] / np.sqrt(2)]
    for p in outside:
        res = solver.decompose(p)
        assert res.decomposition is None and res.gap > 0


def test_caratheodory_keeps_the_point_and_at_most_nine_atoms():
    rng = np.random.default_rng(6)
    q = qubit_realisations(30, seed=7)
    lifted = np.vstack([q.T, np.ones(30)])
    w = rng.dirichlet(np.ones(30))
    w2 = caratheodory(lifted, w)
    assert (w2 > 0).sum() <= 9 and np.all(w2 >= 0)
    assert np.allclose(lifted @ w2, lifted @ w, atol=1e-12)


def test_refine_reaches_a_perturbed_target_exactly():
    rng = np.random.default_rng(8)
    psi = rng.standard_normal((3, 4))
    psi /= np.linalg.norm(psi, axis=1, keepdims=True)
    ang = rng.uniform(0, 2 * np.pi, (3, 4))
    w = np.array([0.5, 0.3, 0.2])
    p = w @ behaviours(psi, ang)
    dec = refine(p, w, psi + 1e-4 * rng.standard_normal(psi.shape) / 2,
                 ang + 1e-4 * rng.standard_normal(ang.shape))
    assert dec is not None and dec.error <= 1e-12
    assert check(p, dec.weights, dec.states, dec.angles) == dec.error
