"""Atoms: behaviours against explicit Kronecker products, deterministic points, 2k embedding."""

import numpy as np

from chshml import geometry as g
from chshml.certify.atoms import (
    behaviours,
    bell_operators,
    deterministic_atoms,
    embed,
    observables,
)


def explicit(psi, angles):
    z, x, eye = np.diag([1.0, -1.0]), np.array([[0.0, 1.0], [1.0, 0.0]]), np.eye(2)
    a = [np.cos(t) * z + np.sin(t) * x for t in angles]
    ops = [np.kron(a[0], eye), np.kron(a[1], eye), np.kron(eye, a[2]), np.kron(eye, a[3])]
    ops += [np.kron(a[i], a[2 + j]) for i in (0, 1) for j in (0, 1)]
    return np.array([psi @ o @ psi for o in ops])


def random_atoms(n, seed):
    rng = np.random.default_rng(seed)
    psi = rng.standard_normal((n, 4))
    return psi / np.linalg.norm(psi, axis=1, keepdims=True), rng.uniform(0, 2 * np.pi, (n, 4))


def test_behaviours_match_explicit_operators():
    psi, ang = random_atoms(50, 1)
    q = behaviours(psi, ang)
    ref = np.array([explicit(s, a) for s, a in zip(psi, ang, strict=True)])
    assert np.abs(q - ref).max() < 1e-14
    assert np.all(g.ns_violation(q) <= 1e-12)  # atoms are non-signalling behaviours


def test_observables_are_plus_minus_one_valued():
    ob = observables(np.linspace(0, 7, 11))
    assert np.allclose(ob @ ob, np.eye(2), atol=1e-15)
    assert np.allclose(np.trace(ob, axis1=1, axis2=2), 0.0)


def test_bell_operator_expectation_is_the_functional():
    psi, ang = random_atoms(20, 2)
    beta = np.random.default_rng(3).standard_normal(8)
    w = bell_operators(beta, ang)
    assert np.allclose(np.einsum("si,sij,sj->s", psi, w, psi), behaviours(psi, ang) @ beta)


def test_deterministic_atoms_are_the_local_vertices():
    s, a = deterministic_atoms()
    assert np.array_equal(behaviours(s, a), g.LOCAL_DETERMINISTIC_POINTS)


def test_embedding_in_local_dimension_2k_reproduces_the_mixture():
    psi, ang = random_atoms(3, 4)
    w = np.array([0.2, 0.5, 0.3])
    rho, a, b = embed(psi, ang, w)
    d = 6
    assert rho.shape == (d * d, d * d) and np.isclose(np.trace(rho), 1.0)
    assert np.linalg.eigvalsh(rho).min() > -1e-14
    for o in a + b:
        assert np.allclose(o @ o, np.eye(d))
    eye = np.eye(d)
    ops = [np.kron(a[0], eye), np.kron(a[1], eye), np.kron(eye, b[0]), np.kron(eye, b[1])]
    ops += [np.kron(a[i], b[j]) for i in (0, 1) for j in (0, 1)]
    q = np.array([np.trace(rho @ o) for o in ops])
    assert np.abs(q - w @ behaviours(psi, ang)).max() < 1e-14
