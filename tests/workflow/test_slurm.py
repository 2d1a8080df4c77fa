"""Through a real SLURM (tests/cluster/slurm_up.sh): the workflow profile and ad-hoc arrays.

Skipped, with the reason printed (pytest -rs), when no cluster answers `sinfo`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from datacheck import same_data
from workflow_helpers import REPO, TINY_DATASETS, snakemake

from chshml.store import read_h5


def _cluster_up() -> str | None:
    if shutil.which("sinfo") is None:
        return "no sinfo on PATH (start one with tests/cluster/slurm_up.sh)"
    res = subprocess.run(["sinfo", "-h", "-o", "%P %a"], capture_output=True, text=True)
    if res.returncode != 0:
        return f"no SLURM cluster answers sinfo: {res.stderr.strip()[:200]}"
    parts = {line.split()[0].rstrip("*") for line in res.stdout.splitlines() if line.strip()}
    if not {"cpu", "gpu"} <= parts:
        return f"the cluster lacks partitions cpu and gpu (has {sorted(parts)})"
    return None


_REASON = _cluster_up()
pytestmark = [pytest.mark.slurm, pytest.mark.skipif(_REASON is not None, reason=_REASON or "")]

NN_TARGET = "results/models/nn_corr4_unbalanced.keras"


def _test_profile(tmp: Path, **overrides: object) -> Path:
    """profiles/slurm with the test cluster's overrides (memory, runtime, polling) and more."""
    with open(REPO / "profiles" / "slurm" / "config.yaml") as f:
        prof = yaml.safe_load(f)
    prof["slurm-init-seconds-before-status-checks"] = 2  # MinJobAge 300 >= 3 x 2
    prof["latency-wait"] = 5
    prof["default-resources"]["mem_mb"] = 500
    for res in prof["set-resources"].values():
        res["mem_mb"] = min(int(res.get("mem_mb", 500)), 1000)
        res["runtime"] = 10
        res.pop("cpus_per_task", None)
    prof.update(overrides)
    out = tmp / "profile"
    out.mkdir()
    (out / "config.yaml").write_text(yaml.safe_dump(prof, sort_keys=False))
    return out


def _squeue(run_id: str) -> list[dict[str, str]]:
    res = subprocess.run(["squeue", "--states=all", "-h", "--name", run_id,
                          "-o", "%i|%P|%T|%k"], capture_output=True, text=True, check=True)
    rows = []
    for line in res.stdout.splitlines():
        jobid, part, state, comment = line.split("|", 3)
        rows.append({"id": jobid, "partition": part, "state": state, "comment": comment})
    return rows


def test_workflow_runs_through_slurm(tmp_path):
    overlay = tmp_path / "nn.yaml"  # a tiny network on the tiny 4-D set
    overlay.write_text(yaml.safe_dump({"models": {
        "nn": {"datasets": ["corr4_unbalanced"], "epochs": 2, "restarts": 1},
        "svm": {"datasets": []}}}))
    work = tmp_path / "slurm"
    work.mkdir()
    res = snakemake(work, "data", NN_TARGET, "--configfile", str(REPO / "config/tiny.yaml"),
                    str(overlay), profile=_test_profile(tmp_path), configfile=None,
                    env={"CHSHML_SLURM_ACCOUNT": "ci"}, timeout=900)
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-4000:]
    run_id = re.search(r"SLURM run ID: (\S+)", log).group(1)
    jobs = _squeue(run_id)
    assert jobs and all(j["state"] == "COMPLETED" for j in jobs), jobs
    nn = [j for j in jobs if "train_nn" in j["comment"]]
    assert nn and all(j["partition"] == "gpu" for j in nn), jobs
    assert all(j["partition"] == "cpu" for j in jobs if j not in nn), jobs
    n_snakemake_jobs = len(re.findall(r"^\s*jobid: \d+", log, re.M))
    assert len({j["id"].split("_")[0] for j in jobs}) < n_snakemake_jobs  # arrays
    assert (work / NN_TARGET).exists()

    local = tmp_path / "local"
    local.mkdir()
    ref = snakemake(local, "data", "--cores", "2", timeout=600)
    assert ref.returncode == 0, ref.stderr[-3000:]
    for name in TINY_DATASETS:  # same seed and config: the same data as a local run
        assert same_data(local / f"results/data/{name}.h5",
                         work / f"results/data/{name}.h5") == [], name


def _chshml(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = str(Path(sys.executable).with_name("chshml"))
    return subprocess.run(["timeout", "-k", "10", "600", exe, *args], cwd=cwd,
                          capture_output=True, text=True)


def test_adhoc_label_array(tmp_path):
    assert _chshml("sample", "--space", "full8", "--method", "simplex", "-n", "24", "--seed",
                   "3", "-o", "pts.h5", cwd=tmp_path).returncode == 0
    ref = _chshml("label", "pts.h5", "-o", "ref.h5", "--level", "1+AB", "--quiet",
                  cwd=tmp_path)
    assert ref.returncode == 0, ref.stderr
    args = ("label", "pts.h5", "-o", "out.h5", "--level", "1+AB", "--executor", "slurm",
            "--shards", "3", "--partition", "cpu", "--account", "ci")
    first = _chshml(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    array_id = re.search(r"submitted SLURM array (\d+) with 3 tasks", first.stderr).group(1)
    res = subprocess.run(["squeue", "--states=all", "-h", "-j", array_id, "-o", "%i|%P|%T"],
                         capture_output=True, text=True, check=True)
    tasks = sorted(line.split("|")[0] for line in res.stdout.split())
    assert tasks == [f"{array_id}_{k}" for k in range(3)], res.stdout
    got, attrs = read_h5(tmp_path / "out.h5")
    want, _ = read_h5(tmp_path / "ref.h5")
    assert np.array_equal(got["points"], want["points"])
    assert np.array_equal(got["label"], want["label"])
    assert np.allclose(got["lam"], want["lam"], atol=1e-7)
    assert attrs["n_shards"] == 3 and attrs["executor"] == "slurm"

    (tmp_path / "out.h5.shards" / "label_1.h5").unlink()  # a lost shard
    second = _chshml(*args, cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "2 already done, 1 to run" in second.stderr
    assert re.search(r"submitted SLURM array \d+ with 1 tasks", second.stderr)
    again, _ = read_h5(tmp_path / "out.h5")
    assert np.array_equal(again["label"], got["label"])


def _log_span(path: Path) -> tuple[int, float]:
    """(birth, last modification) of a shard log: the job's start and end on this node."""
    birth = int(subprocess.run(["stat", "-c", "%W", str(path)], capture_output=True,
                               text=True, check=True).stdout)
    return birth, path.stat().st_mtime


SPREAD = "full8_spread_1e-2"


def test_shards_run_as_concurrent_array_tasks(tmp_path):
    """4 shards through profiles/slurm: one array, tasks overlapping, the local run's data."""
    overlay = tmp_path / "spread.yaml"
    overlay.write_text(yaml.safe_dump({"run_datasets": [SPREAD],
                                       "datasets": {SPREAD: {"n": 1200, "shards": 4}}}))
    target = f"results/data/{SPREAD}.h5"
    work = tmp_path / "slurm"
    work.mkdir()
    res = snakemake(work, target, "--configfile", str(REPO / "config/tiny.yaml"), str(overlay),
                    profile=_test_profile(tmp_path), configfile=None,
                    env={"CHSHML_SLURM_ACCOUNT": "ci"}, timeout=900)
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-4000:]
    run_id = re.search(r"SLURM run ID: (\S+)", log).group(1)
    tasks = [j for j in _squeue(run_id) if "rule_sample" in j["comment"]]
    assert len(tasks) == 4 and all(j["state"] == "COMPLETED" for j in tasks), tasks
    assert all("_" in j["id"] for j in tasks), tasks  # array task ids: <array>_<index>
    assert len({j["id"].split("_")[0] for j in tasks}) < 4, tasks  # fewer submissions

    spans = [_log_span(work / f"logs/data/{SPREAD}/sample_{k}.log") for k in range(4)]
    if any(b <= 0 for b, _ in spans):
        pytest.skip("this file system records no birth times (stat %W)")
    latest_start = max(b for b, _ in spans)
    earliest_end = min(e for _, e in spans)
    assert latest_start < earliest_end, spans  # all four were running at one moment

    local = tmp_path / "local"
    local.mkdir()
    ref = snakemake(local, target, "--cores", "2", "--configfile",
                    str(REPO / "config/tiny.yaml"), str(overlay), configfile=None, timeout=900)
    assert ref.returncode == 0, ref.stderr[-3000:]
    assert same_data(local / target, work / target) == []


def test_array_mode_survives_a_jobs_cap(tmp_path):
    """Plugin issue #473's conditions: 4 ready shards, `jobs:` 2, arrays of up to 3 tasks.

    Snakemake hands the plugin 2 of the 4 ready shards; the unpatched plugin holds them back
    waiting for a full array (2 < 4 ready, 2 < 3) and the run never ends.
    """
    overlay = tmp_path / "capped.yaml"
    overlay.write_text(yaml.safe_dump({"run_datasets": ["corr4_unbalanced"],
                                       "datasets": {"corr4_unbalanced": {"n": 40,
                                                                         "shards": 4}}}))
    target = "results/data/corr4_unbalanced.h5"
    work = tmp_path / "capped"
    work.mkdir()
    res = snakemake(work, target, "--configfile", str(REPO / "config/tiny.yaml"), str(overlay),
                    profile=_test_profile(tmp_path, **{"jobs": 2, "slurm-array-limit": 3}),
                    configfile=None, env={"CHSHML_SLURM_ACCOUNT": "ci"}, timeout=600)
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-4000:]  # a wedged run ends in the timeout instead
    assert (work / target).exists()
    run_id = re.search(r"SLURM run ID: (\S+)", log).group(1)
    tasks = [j for j in _squeue(run_id) if "rule_sample" in j["comment"]]
    assert len(tasks) == 4 and any("_" in j["id"] for j in tasks), tasks
