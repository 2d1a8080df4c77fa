"""chshml.seesaw.realisation: behaviours of realisations, validity checks, seeded starts."""

from __future__ import annotations

import numpy as np
from seesaw_helpers import TSIRELSON, brute_behaviour

from chshml.seesaw.realisation import (
    behaviour,
    check_realisation,
    project_states,
    qubit_realisation,
    random_observables,
)


def test_behaviour_matches_kronecker_products():
    rho = project_states(np.random.default_rng(0).standard_normal((9, 9)))
    a, b = random_observables(3, 1)
    assert np.allclose(behaviour(rho, 0.8 * a, b), brute_behaviour(rho, 0.8 * a, b), atol=1e-14)
    tsirelson = behaviour(*qubit_realisation((0, np.pi / 2), (np.pi / 4, -np.pi / 4)))
    assert np.allclose(tsirelson, [0, 0, 0, 0, TSIRELSON, TSIRELSON, TSIRELSON, -TSIRELSON])


def test_check_rejects_invalid_realisations():
    rho, a, b = qubit_realisation((0, 1.0), (0.3, -0.4))
    p = behaviour(rho, a, b)
    assert check_realisation(p, rho, a, b).certified
    assert not check_realisation(p + 1e-6, rho, a, b).certified  # wrong behaviour
    assert not check_realisation(p, rho, 1.01 * a, b).certified  # |eig A| > 1
    bad = rho.copy()
    bad[0, 0] += 1e-6  # trace != 1
    assert not check_realisation(p, bad, a, b).valid
    neg = rho - 1e-6 * np.eye(4) + 1e-6 * 4 * np.diag([0, 0, 0, 1.0])  # not PSD
    assert not check_realisation(p, neg, a, b).valid
    assert not check_realisation(p, np.full_like(rho, np.nan), a, b).certified


def test_same_seed_same_start():
    a1, b1 = random_observables(4, 3)
    a2, b2 = random_observables(4, 3)
    a3, _ = random_observables(4, 4)
    assert np.array_equal(a1, a2) and np.array_equal(b1, b2) and not np.allclose(a1, a3)
    assert np.allclose(np.abs(np.linalg.eigvalsh(a1)), 1.0)  # +-1 observables
