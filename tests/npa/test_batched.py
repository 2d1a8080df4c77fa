"""Batched NPA gauges against independent truth: Clarabel, TLM, Tsirelson, qubit realisations."""

from functools import lru_cache, partial

import numpy as np
import pytest
from _helpers import qubit_realisations

from chshml import geometry as g
from chshml.npa import label_points
from chshml.npa import labelling as lab
from chshml.npa.batched import BatchedGauge
from chshml.npa.certificate import witness_map
from chshml.npa.gauge import GaugeProblem
from chshml.npa.words import moment_map


def ns_points(n: int, seed: int) -> np.ndarray:
    """Uniform 8-D NS behaviours by rejection from the cube."""
    rng = np.random.default_rng(seed)
    out = np.empty((0, 8))
    while len(out) < n:
        q = rng.uniform(-1, 1, (40 * n, 8))
        out = np.vstack([out, q[(q @ g.NS_FACETS_G.T <= 1).all(axis=1)]])
    return out[:n]


def test_tsirelson_and_tlm():
    res = BatchedGauge("1+AB").solve(g.PR_BOXES)
    assert res.certified.all()
    assert np.allclose(res.lam, 1 / np.sqrt(2), atol=1e-9)
    assert np.all(res.lam_lo <= 1 / np.sqrt(2) + 1e-12) and np.all(res.lam_hi >= 1 / np.sqrt(2))
    rng = np.random.default_rng(2)
    corr = rng.uniform(-1, 1, (300, 4))
    res1 = BatchedGauge("1").solve(g.to_full(corr))
    exact = g.tlm_gauge(corr)
    assert res1.certified.mean() > 0.99
    ok = res1.certified
    assert np.max(np.abs(res1.lam[ok] - exact[ok]) / exact[ok]) < 1e-8
    assert np.all(res1.lam_lo[ok] <= exact[ok] * (1 + 1e-12))
    assert np.all(res1.lam_hi[ok] >= exact[ok] * (1 - 1e-12))


@pytest.mark.slow
@pytest.mark.parametrize(("level", "count"), [("1", 200), ("1+AB", 300), ("2", 120), ("3", 16)])
def test_agrees_with_clarabel(level, count):
    pts = ns_points(count, seed=11)
    # add points right at the boundary of Q_n: scale by the gauge itself (plus/minus 1e-7)
    bg = BatchedGauge(level)
    first = bg.solve(pts[: count // 4])
    near = pts[: count // 4] * (first.lam * (1 + np.linspace(-1e-7, 1e-7, count // 4)))[:, None]
    pts = np.vstack([pts, near, g.PR_BOXES[:2], g.LOCAL_DETERMINISTIC_POINTS[:2]])
    res = bg.solve(pts)
    assert res.certified.mean() > 0.98
    prob = GaugeProblem(level, "CLARABEL")
    for i in np.flatnonzero(res.certified):
        ref = prob.solve(pts[i])
        # Clarabel's own certified bracket bounds its error; ours is below cert_tol
        assert abs(res.lam[i] - ref.lam) <= 1e-8 + ref.width, (i, res.lam[i], ref.lam)
        assert res.lam_lo[i] <= ref.lam_hi + 1e-12 and res.lam_hi[i] >= ref.lam_lo - 1e-12
    lbl = lab.decide(res.lam, res.lam_hi - res.lam_lo, 1e-6)
    ref_lbl = label_points(pts, level, solver="clarabel").label
    both = (lbl >= 0) & (ref_lbl >= 0)
    assert np.array_equal(lbl[both], ref_lbl[both])


def nonlocal_points(n: int, seed: int) -> np.ndarray:
    """Random points of the 8 nonlocal simplices (Dirichlet weights on their vertices)."""
    rng = np.random.default_rng(seed)
    verts = [g.nonlocal_simplex_vertices(f) for f in range(8)]
    return np.array([rng.dirichlet(np.full(len(verts[f]), 0.3)) @ verts[f]
                     for f in rng.integers(0, 8, n)])


@lru_cache(maxsize=1)
def quantum_points() -> np.ndarray:
    """1,000 qubit realisations (pure and mixed states) and the 16 local deterministic points."""
    return np.vstack([qubit_realisations(1000, seed=9, min_mix=0.0),
                      g.LOCAL_DETERMINISTIC_POINTS])


@pytest.mark.parametrize(("level", "count"), [("1", 200), ("1+AB", 300), ("2", 150), ("3", 40)])
def test_witnesses_separate_and_hold_on_quantum_points(level, count):
    pts = np.vstack([nonlocal_points(count, seed=4), g.PR_BOXES, 1.2 * g.PR_BOXES[:2],
                     2 * g.LOCAL_DETERMINISTIC_POINTS[:2]])
    res = label_points(pts, level)
    zero = res.label == 0
    assert zero.sum() > count // 6
    beta, beta0 = res.witness_beta[zero], res.witness_beta0[zero]
    assert np.all(np.isfinite(beta)) and np.all(np.einsum("bi,bi->b", beta, pts[zero]) > beta0)
    values = quantum_points() @ beta.T
    assert np.all(values <= beta0[None, :] + 1e-12)
    # the stored certificate reproduces the witness through the linear identity
    mm = moment_map(level)
    iu, ju = np.triu_indices(mm.size)
    z = np.zeros((zero.sum(), mm.size, mm.size))
    z[:, iu, ju] = res.extra["certificate_Z"][zero]
    z[:, ju, iu] = z[:, iu, ju]
    b, b0 = witness_map(mm, z, res.extra["certificate_mu"][zero])
    assert np.allclose(b, beta, atol=1e-12) and np.allclose(b0, beta0, atol=1e-12)
    # a PSD certificate is positive definite; a bare NS-facet witness has Z = 0
    psd = z.any(axis=(1, 2))
    assert psd.sum() > count // 10 and np.linalg.eigvalsh(z[psd]).min() > 0
    assert np.all(res.extra["certificate_mu"][zero] >= 0)


def test_uncertified_points_fall_back_to_clarabel(monkeypatch):
    pts = ns_points(40, seed=6)
    ref = label_points(pts, "1+AB", solver="clarabel")
    monkeypatch.setattr(lab, "BatchedGauge", partial(BatchedGauge, max_iter=3))
    res = label_points(pts, "1+AB")
    assert all(s.startswith("batched:") and ">CLARABEL:" in s for s in res.status)
    assert np.array_equal(res.label, ref.label)
    assert np.allclose(res.lam, ref.lam, atol=1e-7)


def test_outside_ns_and_origin():
    det = g.LOCAL_DETERMINISTIC_POINTS[:3]
    pts = np.vstack([2 * det, np.zeros((1, 8))])
    res = BatchedGauge("1+AB").solve(pts)
    assert np.allclose(res.lam[:3], 0.5, atol=1e-9) and res.certified.all()
    assert np.all(np.einsum("bi,bi->b", res.beta[:3], pts[:3]) > res.beta0[:3])
    assert np.isinf(res.lam[3]) and res.status[3] == "origin"
    lr = label_points(pts, "1+AB")
    assert list(lr.label) == [0, 0, 0, 1]


def test_linalg_fallback_without_numpy_internals(monkeypatch):
    # the stacked LAPACK kernels come from a private numpy module; without it the solver
    # falls back to per-matrix numpy.linalg calls and must give the same answers
    import importlib.util
    import sys

    import numpy.linalg

    from chshml.npa import batched

    monkeypatch.delattr(numpy.linalg, "_umath_linalg")
    monkeypatch.setitem(sys.modules, "numpy.linalg._umath_linalg", None)
    spec = importlib.util.spec_from_file_location("batched_fallback", batched.__file__)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "batched_fallback", module)
    spec.loader.exec_module(module)
    assert module._cholesky.__code__ is not batched._cholesky.__code__
    pts = np.vstack([g.PR_BOXES[:2], ns_points(20, seed=3)])
    res, ref = module.BatchedGauge("1+AB").solve(pts), BatchedGauge("1+AB").solve(pts)
    assert res.certified.all()
    assert np.allclose(res.lam, ref.lam, rtol=1e-8, atol=0)


def test_stop_reasons_name_why_a_point_was_not_certified():
    pts = ns_points(30, seed=8)
    capped = BatchedGauge("1+AB", max_iter=2).solve(pts)
    assert set(capped.status) <= {"batched:optimal", "batched:max_iter"}
    assert (capped.status == "batched:max_iter").sum() > 20
    assert np.all(capped.certified == (capped.status == "batched:optimal"))
    strict = BatchedGauge("1+AB", cert_tol=-1.0).solve(pts)  # a negative width: never met
    assert not strict.certified.any()
    assert set(strict.status) <= {"batched:uncertified", "batched:stalled"}
    full = BatchedGauge("1+AB").solve(pts)
    assert full.certified.all() and set(full.status) == {"batched:optimal"}


@pytest.mark.slow
def test_level4_agrees_with_clarabel_within_its_bracket():
    """Level 4 (41 x 41 moment matrices): a few hundred points against compiled Clarabel."""
    rng = np.random.default_rng(41)
    verts = g.nonlocal_simplex_vertices(0)
    simplex = rng.dirichlet(np.ones(9), 120) @ verts
    pts = np.vstack([ns_points(60, seed=41), simplex, g.PR_BOXES[:2],
                     g.LOCAL_DETERMINISTIC_POINTS[:2]])
    bg = BatchedGauge("4")
    first = bg.solve(pts[:40])
    near = pts[:40] * (first.lam * (1 + np.linspace(-1e-7, 1e-7, 40)))[:, None]
    pts = np.vstack([pts, near])
    res = bg.solve(pts)
    assert res.certified.mean() > 0.98
    assert np.allclose(res.lam[-44:-40][:2], 1 / np.sqrt(2), atol=1e-9)  # PR boxes: Tsirelson
    prob = GaugeProblem("4", "CLARABEL")
    for i in np.flatnonzero(res.certified):
        ref = prob.solve(pts[i])
        assert abs(res.lam[i] - ref.lam) <= 1e-8 + ref.width, (i, res.lam[i], ref.lam)
        assert res.lam_lo[i] <= ref.lam_hi + 1e-12 and res.lam_hi[i] >= ref.lam_lo - 1e-12


def test_level4_is_validated_and_bounds_tsirelson():
    from chshml.npa.batched import is_validated

    assert is_validated("4")
    res = BatchedGauge("4").solve(np.vstack([g.PR_BOXES[:2], g.LOCAL_DETERMINISTIC_POINTS[:1]]))
    assert res.certified.all()
    assert np.allclose(res.lam[:2], 1 / np.sqrt(2), atol=1e-9)
    assert np.isclose(res.lam[2], 1.0, atol=1e-9)
