"""certify_points: qubit realisations in, points outside Q_1+AB and Q_3 refuted."""

import numpy as np
import pytest
from _helpers import qubit_realisations

from chshml import geometry as g
from chshml.certify.atoms import behaviours
from chshml.certify.membership import certify_points
from chshml.npa.batched import BatchedGauge

#: A behaviour in Q_1+AB but not in Q_3 (gauges 1.00755 at 1+AB and 0.99250 at level 3),
#: found by scanning the canonical nonlocal simplex for the largest ratio of the two gauges.
Q1AB_NOT_Q3 = np.array([-0.258111167847, 0.034814524134, -0.264193261396, 0.04054564428,
                        0.941109074281, 0.62595970406, 0.560541436454, -0.35081774438])


def reconstruct(res, i):
    k = res.n_atoms[i]
    return res.atom_weights[i, :k] @ behaviours(res.atom_state[i, :k], res.atom_angles[i, :k])


def test_hidden_qubit_realisations_are_all_certified_inside():
    rng = np.random.default_rng(1)
    pts = qubit_realisations(60, seed=21)
    pure = qubit_realisations(3000, seed=22, min_mix=0.0)
    pure = pure[~g.is_local(pure)][:10]
    mixes = rng.dirichlet(np.ones(3), 10) @ pure[:3]
    pts = np.vstack([pts, pure, mixes, g.PR_BOXES[:2] / np.sqrt(2)])
    res = certify_points(pts, "1+AB")
    assert np.all(res.label == 1), res.status[res.label != 1]
    for i in range(len(pts)):
        assert np.abs(reconstruct(res, i) - pts[i]).max() <= 1e-9
        assert 1 <= res.n_atoms[i] <= 9
        assert np.all(res.atom_weights[i, res.n_atoms[i]:] == 0)


def test_points_outside_q1ab_are_refuted_never_inside():
    rng = np.random.default_rng(2)
    v = rng.uniform(1 / np.sqrt(2) + 1e-3, 1.0, 20)           # PR mixtures beyond Tsirelson
    pr = v[:, None] * g.PR_BOXES[rng.integers(0, 8, 20)]
    simplex = rng.dirichlet(np.full(9, 0.3), 300) @ g.nonlocal_simplex_vertices(0)
    outside = simplex[BatchedGauge("1+AB").solve(simplex).lam_hi < 1 - 1e-6]
    assert len(outside) > 20
    pts = np.vstack([pr, outside])
    assert np.all(g.chsh_values(pr).max(axis=1) > 2 * np.sqrt(2))
    res = certify_points(pts, "1+AB")
    assert np.all(res.label == 0)
    assert np.all(np.einsum("bi,bi->b", res.witness_beta, pts) > res.witness_beta0)
    assert np.all(res.n_atoms == 0) and np.isnan(res.gap).all()


def test_deterministic_points_one_atom():
    res = certify_points(g.LOCAL_DETERMINISTIC_POINTS, "1+AB")
    assert np.all(res.label == 1) and np.all(res.n_atoms == 1)
    assert np.all(res.atom_weights[:, 0] == 1.0)


def test_point_in_q1ab_but_not_q3_is_refuted_at_level_3():
    at_1ab = certify_points(Q1AB_NOT_Q3[None], "1+AB")
    assert at_1ab.lam[0] > 1.005 and at_1ab.label[0] == -1   # Q_1+AB cannot refute it
    assert at_1ab.gap[0] > 1e-4                                # and no decomposition exists
    res = certify_points(Q1AB_NOT_Q3[None], "3")
    assert res.label[0] == 0 and res.lam_hi[0] < 0.995
    assert res.witness_beta[0] @ Q1AB_NOT_Q3 > res.witness_beta0[0]


def test_correlation_space_input():
    corr = np.array([[0.5, 0.5, 0.5, -0.5], [1.0, 1.0, 1.0, -1.0]])   # CHSH 2 and 4
    res = certify_points(corr, "1+AB")
    assert list(res.label) == [1, 0]


def test_a_killed_run_resumes_from_its_finished_blocks(tmp_path, monkeypatch):
    """Blocks are checkpointed: a run that dies in its third block keeps the first two, and the
    rerun computes only the rest and gives the same result as an uninterrupted run.
    """
    from chshml.certify import membership

    rng = np.random.default_rng(11)
    pts = np.vstack([rng.dirichlet(np.full(9, 0.5), 10) @ g.nonlocal_simplex_vertices(0),
                     g.PR_BOXES[:1]])
    whole = membership.certify_points(pts, "1+AB", block=4, seed=5)
    calls = []
    real = membership._certify_block

    def dies_in_block_3(P, *args):
        calls.append(len(P))
        if len(calls) == 3:
            raise KeyboardInterrupt  # the wall-time limit
        return real(P, *args)

    monkeypatch.setattr(membership, "_certify_block", dies_in_block_3)
    with pytest.raises(KeyboardInterrupt):
        membership.certify_points(pts, "1+AB", block=4, seed=5, checkpoint=tmp_path / "ck")
    assert sorted(p.name for p in (tmp_path / "ck").glob("block_*.npz")) == [
        "block_0.npz", "block_1.npz"]
    calls.clear()
    monkeypatch.setattr(membership, "_certify_block", real)
    resumed = membership.certify_points(pts, "1+AB", block=4, seed=5,
                                        checkpoint=tmp_path / "ck")
    for name in membership._ARRAYS:
        a, b = getattr(resumed, name), getattr(whole, name)
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name
    for key in whole.extra:
        assert np.array_equal(resumed.extra[key], whole.extra[key], equal_nan=True), key
    # other options (a different seed) start the folder afresh instead of mixing results
    membership.certify_points(pts[:4], "1+AB", block=4, seed=6, checkpoint=tmp_path / "ck")
    assert [p.name for p in (tmp_path / "ck").glob("block_*.npz")] == ["block_0.npz"]
