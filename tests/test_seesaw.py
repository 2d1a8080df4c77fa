"""Steered see-saw: realisations, both engines, CLI, resume after a kill, Appendix A helpers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from chshml.seesaw import job
from chshml.seesaw.engine_fast import seesaw_fast
from chshml.seesaw.engine_sdp import seesaw_sdp
from chshml.seesaw.job import run_points
from chshml.seesaw.mpi import MPI_SIZE_VARS
from chshml.seesaw.progress import fingerprint, progress_dir, read_records
from chshml.seesaw.realisation import (
    behaviour,
    check_realisation,
    initial_observables,
    project_states,
    qubit_realisation,
    random_observables,
)
from chshml.seesaw.records import SeesawConfig
from chshml.seesaw.summary import distance_counts, distance_histogram

TSIRELSON = 1.0 / np.sqrt(2.0)


def beyond_tsirelson(delta: float) -> np.ndarray:
    """``(1/sqrt2 + delta) * PR``: outside Q by Tsirelson; its distance to Q is ``2 delta``."""
    c = TSIRELSON + delta
    return np.array([0, 0, 0, 0, c, c, c, -c], dtype=float)


def random_qubit_points(n: int, seed: int) -> np.ndarray:
    """Behaviours of random real qubit realisations (pure, partly entangled states)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        th = rng.uniform(0, 2 * np.pi, 4)
        out.append(behaviour(*qubit_realisation(th[:2], th[2:], rng.standard_normal(4))))
    return np.array(out)


def qutrit_point() -> np.ndarray:
    """A behaviour of a random qutrit realisation (mixed state, non-projective observables)."""
    rng = np.random.default_rng(7)
    rho = project_states(rng.standard_normal((9, 9)) + 3 * np.eye(9) / 9)
    a, b = random_observables(3, 123)
    return behaviour(rho, 0.9 * a, b)


def brute_behaviour(rho: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = a.shape[-1]
    eye = np.eye(d)
    ops = [np.kron(a[0], eye), np.kron(a[1], eye), np.kron(eye, b[0]), np.kron(eye, b[1])]
    ops += [np.kron(a[x], b[y]) for x in (0, 1) for y in (0, 1)]
    return np.array([np.trace(rho @ o) for o in ops])


# ---------------------------------------------------------------------------
# Realisations
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Engines
# ---------------------------------------------------------------------------

def _certify(engine, points, dim, seeds):  # noqa: ANN001, ANN202
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
    distance (the analytic gap); SDP as in the paper, no polish."""
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


# ---------------------------------------------------------------------------
# Jobs: restarts, batching, resume, CLI
# ---------------------------------------------------------------------------

def test_result_independent_of_batching():
    points = np.vstack([random_qubit_points(2, 3), beyond_tsirelson(0.01)[None]])
    r1 = run_points(points, SeesawConfig(local_dim=2, restarts=3, seed_batch=1, chunk=1),
                    log=False, comm=None)
    r2 = run_points(points, SeesawConfig(local_dim=2, restarts=3, seed_batch=3, chunk=3),
                    log=False, comm=None)
    np.testing.assert_array_equal(r1.certified, r2.certified)
    np.testing.assert_array_equal(r1.seed, r2.seed)
    assert r1.certified[:2].all() and not r1.certified[2]
    assert r1.restarts_tried[2] == 3


def _counting_engine(calls):  # noqa: ANN001, ANN202
    def engine(config, targets, a0, b0):  # noqa: ANN001, ANN202
        calls.extend(map(tuple, np.round(targets, 12)))
        return job.run_engine(config, targets, a0, b0)
    return engine


@pytest.mark.slow
def test_resume_skips_recorded_points(tmp_path):
    points = random_qubit_points(4, 21)
    cfg = SeesawConfig(local_dim=2, restarts=2, chunk=1)
    folder = tmp_path / "out.h5.progress"
    calls: list = []
    run_points(points, cfg, todo=np.array([0, 1]), progress=folder, log=False, comm=None,
               engine=_counting_engine(calls))
    assert set(read_records(folder, 2)) == {0, 1}
    # tear the last record as a kill mid-write would: it is dropped and redone
    raw = (folder / "rank0.bin").read_bytes()
    (folder / "rank0.bin").write_bytes(raw[: len(raw) - 100])
    calls.clear()
    res = run_points(points, cfg, progress=folder, log=False, comm=None,
                     engine=_counting_engine(calls))
    computed = {tuple(np.round(points[i], 12)) for i in range(4)
                if tuple(np.round(points[i], 12)) in calls}
    assert computed == {tuple(np.round(points[i], 12)) for i in (1, 2, 3)}
    assert res.processed.all() and res.certified.all() and res.resumed == 1
    # other options: the stale progress is discarded, not reused
    res2 = run_points(points, SeesawConfig(local_dim=2, restarts=1), progress=folder,
                      log=False, comm=None)
    assert res2.resumed == 0


def _write_input(path: Path, points: np.ndarray, certified: np.ndarray | None = None) -> None:
    with h5py.File(path, "w") as f:
        f["points"] = points
        if certified is not None:
            f["certified"] = certified


def test_cli_writes_realisations_and_skips_certified(tmp_path):
    from chshml.cli import main

    points = np.vstack([random_qubit_points(2, 31), beyond_tsirelson(0.01)[None]])
    inp, out = tmp_path / "in.h5", tmp_path / "out.h5"
    _write_input(inp, points, np.array([0, 1, 0], dtype=np.int8))
    assert main(["seesaw", str(inp), "-o", str(out), "--dim", "2", "--seeds", "2",
                 "--quiet"]) == 0
    with h5py.File(out, "r") as f:
        cert, dist, seed = f["certified"][()], f["distance"][()], f["seed"][()]
        rho, a, b, proc = f["state"][()], f["A"][()], f["B"][()], f["processed"][()]
        assert f.attrs["dim"] == 2 and f.attrs["engine"] == "fast"
    assert list(cert) == [1, 1, 0] and list(proc) == [1, 0, 1]
    assert seed[0] >= 0 and seed[1] == -1 and dist[2] > 0.019
    assert check_realisation(points[0], rho[0], a[0], b[0]).certified
    assert progress_dir(out).is_dir()
    assert main(["seesaw", str(inp), "-o", str(out), "--dim", "0", "--seeds", "2"]) == 2
    # --local-dim / --restarts are the names; --dim / --seeds stay as aliases: same file
    out2 = tmp_path / "out2.h5"
    assert main(["seesaw", str(inp), "-o", str(out2), "--local-dim", "2", "--restarts", "2",
                 "--quiet"]) == 0
    with h5py.File(out, "r") as f, h5py.File(out2, "r") as g:
        assert g.attrs["dim"] == 2 and g.attrs["n_seeds"] == 2
        for key in f:
            np.testing.assert_array_equal(f[key][()], g[key][()])


def test_progress_fingerprint_kept_across_the_option_rename():
    """Progress folders written before dim/seeds became local_dim/restarts stay valid."""
    cfg = SeesawConfig(local_dim=2, restarts=3, first_seed=5, engine="sdp")
    assert fingerprint(0.1 * np.eye(8)[:2], cfg) == (  # the value the old driver computed
        "f94ad03f25f2b1c8bb23ccdc656f3ebe76542bdaa34a007cd2037f669dde6100")


@pytest.mark.slow
def test_killed_job_resumes_without_repeating(tmp_path):
    """Kill a CLI job (SIGKILL) after some points are recorded; the rerun does only the rest."""
    points = np.vstack([random_qubit_points(8, 41)]
                       + [beyond_tsirelson(x)[None] for x in (0.01, 0.02, 0.03, 0.05)])
    inp, out = tmp_path / "in.h5", tmp_path / "out.h5"
    _write_input(inp, points)
    folder = progress_dir(out)
    cmd = [sys.executable, "-m", "chshml.cli", "seesaw", str(inp), "-o", str(out), "--dim", "2",
           "--seeds", "4", "--chunk", "1", "--quiet"]
    env = {k: v for k, v in os.environ.items() if k not in MPI_SIZE_VARS}
    proc = subprocess.Popen(cmd, env=env)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if folder.is_dir() and len(read_records(folder, 2)) >= 2:
            break
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.skip("job finished before it could be killed")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    first = read_records(folder, 2)
    assert 2 <= len(first) < len(points)
    calls: list = []
    cfg = SeesawConfig(local_dim=2, restarts=4)
    res = run_points(points, cfg, progress=folder, log=False, comm=None,
                     engine=_counting_engine(calls))
    assert len(calls) > 0
    # each computed (point, seed) instance belongs to a point without a record
    todo = [i for i in range(len(points)) if i not in first]
    assert set(calls) <= {tuple(np.round(points[i], 12)) for i in todo}
    assert len(calls) <= 4 * len(todo)
    assert res.processed.all() and res.resumed == len(first)
    for i, rec in first.items():  # finished points keep the killed job's results
        assert res.seed[i] == rec["seed"] and res.distance[i] == rec["distance"]


# ---------------------------------------------------------------------------
# Appendix A helpers
# ---------------------------------------------------------------------------

def test_appendix_a_counts_and_histogram():
    from chshml.seesaw import appendix_a_distances

    boundary = np.vstack([random_qubit_points(2, 51), beyond_tsirelson(0.002)[None]])
    res = appendix_a_distances(boundary, local_dim=2, restarts=2, log=False)
    assert res.certified[:2].all() and not res.certified[2]
    counts = distance_counts(res.distance)
    assert counts == {1e-2: 3, 1e-3: 2, 1e-7: 2}
    hist, edges = distance_histogram(np.array([5e-4, 1.2e-3, 1.9e-3, 3.5e-3, np.nan]))
    np.testing.assert_allclose(edges, [1e-3, 2e-3, 3e-3, 4e-3])
    assert list(hist) == [2, 0, 1]
