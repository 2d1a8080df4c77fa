"""chshml.seesaw.job and .progress: batching-independent results, resume after a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from seesaw_helpers import beyond_tsirelson, random_qubit_points, write_input

from chshml.progress import progress_dir
from chshml.seesaw import job
from chshml.seesaw.job import run_points
from chshml.seesaw.mpi import MPI_SIZE_VARS
from chshml.seesaw.progress import fingerprint, read_records
from chshml.seesaw.records import SeesawConfig


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


def _counting_engine(calls):
    def engine(config, targets, a0, b0):
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
    write_input(inp, points)
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
