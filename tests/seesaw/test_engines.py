"""chshml.seesaw engines (fast and SDP): certify qubit/qutrit points, never points outside Q."""

from __future__ import annotations

import numpy as np
import pytest
from seesaw_helpers import beyond_tsirelson, brute_behaviour, qutrit_point, random_qubit_points

from chshml.seesaw.engine_fast import seesaw_fast
from chshml.seesaw.engine_sdp import seesaw_sdp
from chshml.seesaw.realisation import (
    behaviour,
    check_realisation,
    initial_observables,
    qubit_realisation,
)


def _certify(engine, points, dim, seeds):
    pts = np.repeat(points, len(seeds), axis=0)
    a0, b0 = initial_observables(dim, np.tile(seeds, len(points)))
    res = engine(pts, a0, b0, 1e-7)
    chk = check_realisation(pts, res.state, res.a, res.b, 1e-7)
    # the stored realisation recomputes p: brute-force Kronecker products, not the engine's code
    for k in np.flatnonzero(chk.certified):
        q = brute_behaviour(res.state[k], res.a[k], res.b[k])
        assert np.linalg.norm(q - pts[k]) < 1e-7
    return res, chk


@pytest.mark.parametrize("dim", [2, 3])
def test_fast_certifies_qubit_and_qutrit_points(dim):
    points = np.vstack([random_qubit_points(4, 11), qutrit_point()[None]]) if dim == 3 \
        else random_qubit_points(5, 11)
    res, chk = _certify(seesaw_fast, points, dim, np.arange(2))
    per_point = chk.certified.reshape(len(points), 2).any(axis=1)
    assert per_point.all(), res.distance


@pytest.mark.slow
def test_fast_never_certifies_outside_q():
    for delta in (1e-3, 1e-2):
        res, chk = _certify(seesaw_fast, beyond_tsirelson(delta)[None], 4, np.arange(3))
        assert not chk.certified.any()
        # the distance stays above the gap 2 delta (and reaches it: Tsirelson point is optimal)
        assert np.all(res.distance >= 2 * delta - 1e-9)
        assert np.min(res.distance) < 2 * delta + 1e-6


def test_sdp_certifies_qubit_and_qutrit_points():
    res, chk = _certify(seesaw_sdp, np.vstack([random_qubit_points(1, 11), qutrit_point()[None]]),
                        3, np.arange(1))
    assert chk.certified.all(), res.distance


@pytest.mark.slow
def test_engines_agree_on_shared_instances():
    """24 instances (8 points x 3 seeds, same starts): same verdict, and outside Q the same
    distance (the analytic gap); SDP as in the paper, no polish.
    """
    inside = np.vstack([
        0.95 * random_qubit_points(3, 5),  # interior points of Q_{2x2}
        behaviour(*qubit_realisation((0, np.pi / 2), (np.pi / 4, -np.pi / 4)))[None],
        0.5 * random_qubit_points(1, 6),
    ])
    outside = np.array([beyond_tsirelson(0.005), beyond_tsirelson(0.02), beyond_tsirelson(0.1)])
    points = np.vstack([inside, outside])
    seeds = np.arange(3)
    fast, cf = _certify(seesaw_fast, points, 2, seeds)
    sdp, cs = _certify(seesaw_sdp, points, 2, seeds)
    assert len(cf.certified) >= 20
    np.testing.assert_array_equal(cf.certified, cs.certified)
    assert cf.certified[:15].all()
    out = slice(15, 24)
    np.testing.assert_allclose(fast.distance[out], sdp.distance[out], rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(fast.distance[out], np.repeat([0.01, 0.04, 0.2], 3), rtol=1e-4)
