"""Test helpers: explicit qubit realisations, an independent truth for NPA and certify tests,
and the relabelling-invariance check every 8-D gauge model must pass.

Import them as ``from _helpers import ...`` (``tests/`` is on ``sys.path``: ``pythonpath`` in
``pyproject.toml``); fixtures built from them live in ``conftest.py``.
"""

from __future__ import annotations

import numpy as np

PAULI = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]])


def random_qubit_observable(rng: np.random.Generator) -> np.ndarray:
    """A ±1-valued qubit observable ``a . sigma`` with a uniform unit Bloch vector."""
    a = rng.standard_normal(3)
    a /= np.linalg.norm(a)
    return np.tensordot(a, PAULI, axes=1)


def random_two_qubit_state(rng: np.random.Generator, mix: float) -> np.ndarray:
    """``(1 - mix) |psi><psi| + mix * rho_random``: a full-rank state when mix > 0."""
    psi = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    psi /= np.linalg.norm(psi)
    g = rng.standard_normal((4, 4)) + 1j * rng.standard_normal((4, 4))
    rho_r = g @ g.conj().T
    rho_r /= np.trace(rho_r).real
    return (1 - mix) * np.outer(psi, psi.conj()) + mix * rho_r


def behaviour_of(rho: np.ndarray, a: list[np.ndarray], b: list[np.ndarray]) -> np.ndarray:
    """The 8-D behaviour of state ``rho`` with observables A0, A1 (Alice) and B0, B1 (Bob)."""
    eye = np.eye(2)

    def ev(op: np.ndarray) -> float:
        return float(np.trace(rho @ op).real)

    marg = [ev(np.kron(a[0], eye)), ev(np.kron(a[1], eye)),
            ev(np.kron(eye, b[0])), ev(np.kron(eye, b[1]))]
    corr = [ev(np.kron(a[x], b[y])) for x in (0, 1) for y in (0, 1)]
    return np.array(marg + corr)


def qubit_realisations(n: int, seed: int, min_mix: float = 0.05) -> np.ndarray:
    """``n`` behaviours from random qubit-qubit realisations (random states and ±1 observables)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        rho = random_two_qubit_state(rng, rng.uniform(min_mix, 1.0))
        a = [random_qubit_observable(rng) for _ in range(2)]
        b = [random_qubit_observable(rng) for _ in range(2)]
        out.append(behaviour_of(rho, a, b))
    return np.array(out)


def assert_gauge_invariant_under_relabellings(clf, seed: int, n_ns: int = 40,
                                              n_simplex: int = 40) -> None:
    """A gauge classifier's predicted gauge is finite, positive and exactly the same for all
    128 relabellings of uniform NS points and canonical nonlocal simplex points.
    """
    from chshml.geometry import RELABELLINGS, apply_relabelling
    from chshml.sampling.polytope import uniform_canonical_simplex, uniform_ns

    rng = np.random.default_rng(seed)
    p = np.vstack([uniform_ns(n_ns, 8, rng), uniform_canonical_simplex(n_simplex, 8, rng)])
    base = clf.predict_gauge(p)
    assert np.all(np.isfinite(base)) and np.all(base > 0)
    for g in range(len(RELABELLINGS)):
        np.testing.assert_array_equal(clf.predict_gauge(apply_relabelling(p, g)), base)
