"""chshml.linalg: decompositions that survive LAPACK's non-convergence (an Intel-run fixture)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.linalg

from chshml import linalg
from chshml.seesaw import engine_fast
from chshml.seesaw.realisation import project_states

FIXTURE = (Path(__file__).resolve().parents[2] / "shared" / "fixtures"
           / "eigh_nonconvergent_36x36.npy")
#: A copy in the repository, so the test does not depend on shared/ being beside the clone.
LOCAL_FIXTURE = Path(__file__).resolve().parent / "data" / "eigh_nonconvergent_36x36.npy"


@pytest.fixture(scope="module")
def bad_matrix() -> np.ndarray:
    return np.load(LOCAL_FIXTURE)


def _check_decomposition(a: np.ndarray, w: np.ndarray, v: np.ndarray) -> None:
    assert np.isfinite(w).all() and np.isfinite(v).all()
    assert np.all(np.diff(w) >= -1e-14)
    np.testing.assert_allclose(v.T @ v, np.eye(len(a)), atol=1e-12)
    np.testing.assert_allclose((v * w) @ v.T, a, atol=1e-12 * max(1.0, np.abs(a).max()))


def test_fixture_is_the_shared_one(bad_matrix):
    if FIXTURE.exists():
        np.testing.assert_array_equal(np.load(FIXTURE), bad_matrix)
    assert bad_matrix.shape == (36, 36) and np.isfinite(bad_matrix).all()


def test_fixture_decomposes_alone_and_inside_a_stack(bad_matrix):
    w, v = linalg.eigh(bad_matrix)
    _check_decomposition(bad_matrix, w, v)
    rng = np.random.default_rng(0)
    g = rng.standard_normal((3, 36, 36))
    stack = np.concatenate([0.5 * (g + np.swapaxes(g, 1, 2)), bad_matrix[None]])
    ws, vs = linalg.eigh(stack)
    for a, wi, vi in zip(stack, ws, vs, strict=True):
        _check_decomposition(a, wi, vi)
    np.testing.assert_allclose(linalg.eigvalsh(stack), ws, atol=1e-12)


def test_every_numpy_failure_falls_back(monkeypatch, bad_matrix):
    """Whatever this CPU's LAPACK does with the fixture, a failing numpy path is survived."""
    def broken(*_args, **_kwargs):
        raise np.linalg.LinAlgError("Eigenvalues did not converge")

    monkeypatch.setattr(np.linalg, "eigh", broken)
    monkeypatch.setattr(np.linalg, "eigvalsh", broken)
    w, v = linalg.eigh(bad_matrix[None])
    _check_decomposition(bad_matrix, w[0], v[0])
    assert np.isfinite(linalg.eigvalsh(bad_matrix)).all()
    rho = project_states(bad_matrix[None])[0]  # the see-saw's state projection
    assert abs(np.trace(rho) - 1) < 1e-12
    assert scipy.linalg.eigh(rho, eigvals_only=True, driver="evr")[0] >= -1e-12


def test_non_finite_instance_is_nan_not_an_exception():
    a = np.stack([np.eye(3), np.full((3, 3), np.nan)])
    w, v = linalg.eigh(a)
    np.testing.assert_allclose(w[0], 1.0)
    assert np.isnan(w[1]).all() and np.isnan(v[1]).all()
    x = linalg.solve(np.stack([np.eye(2), np.zeros((2, 2)), np.full((2, 2), np.inf)]),
                     np.ones((3, 2, 1)))
    np.testing.assert_allclose(x[0], 1.0)
    np.testing.assert_allclose(x[1], 0.0)  # singular: least squares
    assert np.isnan(x[2]).all()


def test_state_step_runs_on_the_fixture_state(bad_matrix):
    """The see-saw's FISTA state step from the exact iterate that crashed the main job."""
    rng = np.random.default_rng(3)
    d = 6
    rho = project_states(bad_matrix[None])
    obs = rng.standard_normal((1, 4, d, d))
    obs = np.clip(0.5 * (obs + np.swapaxes(obs, -1, -2)), -0.3, 0.3)
    a, b = obs[:, :2], obs[:, 2:]
    p = np.array([[0.1, -0.2, 0.05, 0.0, 0.5, 0.4, 0.45, -0.4]])
    out = engine_fast.state_step(p, rho, a, b, iters=5)
    assert np.isfinite(out).all()
    assert abs(np.trace(out[0]) - 1) < 1e-10
