"""The qubit oracle against independent truth: Tsirelson, marginals, sampled atoms, NPA."""

import numpy as np
from _helpers import qubit_realisations

from chshml import geometry as g
from chshml.certify.atoms import behaviours
from chshml.certify.oracle import QubitOracle, ascend
from chshml.npa.batched import BatchedGauge

CHSH = np.array([0, 0, 0, 0, 1, 1, 1, -1.0])


def test_tsirelson_bound_is_reached():
    res = QubitOracle(seed=1).maximise(CHSH)
    assert abs(res.values[0] - 2 * np.sqrt(2)) < 1e-12
    # the returned atom really has that value (recomputed from state and angles)
    assert abs(behaviours(res.states[0], res.angles[0]) @ CHSH - 2 * np.sqrt(2)) < 1e-12


def test_marginal_and_local_functionals():
    o = QubitOracle(seed=2)
    assert abs(o.maximise(np.eye(8)[0]).values[0] - 1.0) < 1e-12
    # a local (product) functional: max is attained at a deterministic point
    beta = np.array([0.3, -0.2, 0.1, 0.4, 0, 0, 0, 0])
    assert abs(o.maximise(beta).values[0] - np.abs(beta).sum()) < 1e-12


def test_ascent_is_monotone_from_each_start():
    beta = np.random.default_rng(5).standard_normal(8)
    starts = np.random.default_rng(6).uniform(0, 2 * np.pi, (20, 4))
    v1 = ascend(beta, starts, sweeps=1)[0]
    v9 = ascend(beta, starts, sweeps=9)[0]
    assert np.all(v9 >= v1 - 1e-12)


def test_oracle_dominates_qubit_points_and_respects_npa():
    rng = np.random.default_rng(7)
    pts = np.vstack([qubit_realisations(400, seed=8, min_mix=0.0), g.LOCAL_DETERMINISTIC_POINTS])
    o = QubitOracle(seed=9)
    bg = BatchedGauge("1+AB")
    for _ in range(25):
        beta = rng.standard_normal(8)
        best = o.maximise(beta).values[0]
        assert best >= (pts @ beta).max() - 1e-12
        # NPA: the oracle's atom lies in Q_1+AB, so its gauge is at least 1
        top = o.maximise(beta)
        q = behaviours(top.states[0], top.angles[0])
        assert bg.solve(q[None]).lam_hi[0] >= 1 - 1e-9
