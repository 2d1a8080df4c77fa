"""chshml.threads: every command's BLAS pools follow ``--threads``, SLURM, else 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from chshml import threads

#: Runs the CLI in-process as ``chshml`` would, then reports the BLAS pool sizes it left.
PROBE = """
import json, sys
from chshml.cli import main
rc = main(sys.argv[1:])
from threadpoolctl import threadpool_info
print(json.dumps({"rc": rc, "pools": [i["num_threads"] for i in threadpool_info()
                                      if i["user_api"] == "blas"]}))
"""


def test_resolve_order():
    assert threads.resolve(3, {"SLURM_CPUS_PER_TASK": "8"}) == (3, "--threads")
    assert threads.resolve(None, {"SLURM_CPUS_PER_TASK": "8"}) == (8, "SLURM_CPUS_PER_TASK")
    assert threads.resolve(None, {"SLURM_CPUS_PER_TASK": ""}) == (1, "default")
    assert threads.resolve(None, {}) == (1, "default")


@pytest.fixture(scope="module")
def points_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("thr") / "pts.npy"
    rng = np.random.default_rng(5)
    np.save(path, rng.uniform(-0.5, 0.5, (50, 4)))
    return path


def _pools(args: list[str], extra_env: dict[str, str]) -> list[int]:
    env = {k: v for k, v in os.environ.items()
           if k not in threads.POOL_VARIABLES and k != "SLURM_CPUS_PER_TASK"}
    env.update(extra_env)
    res = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["rc"] == 0 and out["pools"], out
    return out["pools"]


@pytest.mark.parametrize(("flag", "env", "expected"), [
    ([], {}, 1),                                   # default: one thread
    (["--threads", "2"], {}, 2),                   # the option
    ([], {"SLURM_CPUS_PER_TASK": "2"}, 2),         # inside a SLURM job
    (["--threads", "1"], {"SLURM_CPUS_PER_TASK": "2"}, 1),  # the option wins
])
def test_label_pool_follows_threads(tmp_path, points_file, flag, env, expected):
    args = ["label", str(points_file), "-o", str(tmp_path / "out.h5"), "--level", "1+AB",
            "--quiet", *flag]
    assert set(_pools(args, env)) == {expected}


def test_threads_must_be_positive(points_file, tmp_path):
    res = subprocess.run([sys.executable, "-m", "chshml.cli", "label", str(points_file), "-o",
                          str(tmp_path / "o.h5"), "--level", "1", "--threads", "0"],
                         capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "--threads" in res.stderr
    assert not (tmp_path / "o.h5").exists()
