"""The Snakemake data stage on this machine: plan, config validation, tiny run, resume, order."""

from __future__ import annotations

import importlib.util
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from datacheck import same_data
from workflow_helpers import REPO, TINY_DATASETS, file_mtimes, jobs_run, snakemake

from chshml.store import read_h5

pytestmark = pytest.mark.skipif(shutil.which("timeout") is None, reason="needs timeout(1)")


def _default_datasets() -> list[str]:
    with open(REPO / "config.yaml") as f:
        return list(yaml.safe_load(f)["datasets"])


@pytest.mark.slow
def test_dry_run_plans_the_default_study(tmp_path):
    res = snakemake(tmp_path, "-n", configfile=None, timeout=120)
    assert res.returncode == 0, res.stderr + res.stdout
    jobs = jobs_run(res.stdout)
    merged = {wc for rule, wc in jobs if rule == "merge"}
    # the data stage of the default study: every dataset of config.yaml is merged, and the
    # see-saw's own point sets
    expected = [*_default_datasets(), "seesaw_table8", "seesaw_appendix_a"]
    assert merged == {f"dataset={d}" for d in expected}
    assert any(rule == "label" for rule, _ in jobs) and any(r == "sample" for r, _ in jobs)
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
@pytest.mark.parametrize("patch, message", [
    ({"sed": 1}, "unknown key 'sed'"),
    ({"datasets": {"corr4_unbalanced": {"epsilonn": 0.1}}},
     "unknown key 'datasets.corr4_unbalanced.epsilonn'"),
    ({"labelling": {"solvr": "scs"}}, "unknown key 'labelling.solvr'"),
    ({"datasets": {"corr4_unbalanced": {"shards": 0}}}, "'datasets.corr4_unbalanced.shards'"),
    ({"labelling": {"level": {"full8": "1+XY"}}}, "'labelling.level.full8'"),
    ({"split": {"train": 0.8}}, "'split'"),
    ({"run_datasets": ["nope"]}, "unknown dataset 'nope'"),
    ({"datasets": {"v": {"points_from": "missing"}}}, "'datasets.v.points_from'"),
])
def test_bad_config_is_refused_by_name(tmp_path, patch, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(patch))
    res = snakemake(tmp_path, "-n", configfile=bad, timeout=120)
    assert res.returncode != 0
    assert message in res.stdout + res.stderr
    assert not (tmp_path / "results").exists()


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    """The tiny config run once through profiles/local (2 cores)."""
    root = tmp_path_factory.mktemp("tiny")
    res = snakemake(root, "data", "--cores", "2", timeout=600)
    assert res.returncode == 0, res.stderr[-3000:] + res.stdout[-3000:]
    return root


@pytest.mark.slow
def test_tiny_data_stage_end_to_end(tiny_run):
    for name in TINY_DATASETS:
        data, attrs = read_h5(tiny_run / "results" / "data" / f"{name}.h5")
        n = len(data["points"])
        assert attrs["n_points"] == n and attrs["dataset"] == name
        split = np.concatenate([data["idx_train"], data["idx_val"], data["idx_test"]])
        assert np.array_equal(np.sort(split), np.arange(n))
        assert set(np.unique(data["label"])) <= {-1, 0, 1}
        assert len(data["lam"]) == n
        for key in ("config_hash", "level", "seed", "cpu_seconds_per_point",
                    "versions.chshml", "method", "space"):
            assert key in attrs, key
        assert (tiny_run / "logs" / "data" / name / "merge.log").is_file()
    _, l1 = read_h5(tiny_run / "results/data/volume8_l1.h5")
    d1ab, l1ab = read_h5(tiny_run / "results/data/volume8_l1ab.h5")
    d1, _ = read_h5(tiny_run / "results/data/volume8_l1.h5")
    assert (l1["level"], l1ab["level"]) == ("1", "1+AB")
    assert np.array_equal(d1["points"], d1ab["points"])  # points_from: one sample, two levels
    assert np.all(d1ab["lam"] <= d1["lam"] + 1e-6)  # Q_{1+AB} is inside Q_1
    # each job's stderr (progress lines: points done, rate, ETA) lands in its own log file
    assert (tiny_run / "logs/data/corr4_unbalanced/label_0.log").is_file()
    assert (tiny_run / "logs/data/corr4_unbalanced/sample_1.log").is_file()


@pytest.mark.slow
def test_shard_order_does_not_change_the_data(tiny_run, tmp_path):
    """Shards drawn and labelled in reverse order by hand merge to the workflow's dataset."""
    name, seed, level = "corr4_unbalanced", 7, "1"
    ref, ref_attrs = read_h5(tiny_run / "results" / "data" / f"{name}.h5")
    sizes = ref_attrs["shard_sizes"].tolist()
    bindir = Path(sys.executable).parent
    chshml = str(bindir / "chshml")
    import subprocess

    for k in reversed(range(len(sizes))):
        subprocess.run([chshml, "sample", "--space", "corr4", "--method", "uniform", "-n",
                        str(sizes[k]), "--seed", str(seed), "--dataset", name, "--shard",
                        str(k), "-o", str(tmp_path / f"s{k}.h5")], check=True)
        subprocess.run([chshml, "label", str(tmp_path / f"s{k}.h5"), "-o",
                        str(tmp_path / f"l{k}.h5"), "--level", level, "--quiet"], check=True)
    subprocess.run([chshml, "merge", *[str(tmp_path / f"l{k}.h5") for k in range(len(sizes))],
                    "--samples", *[str(tmp_path / f"s{k}.h5") for k in range(len(sizes))],
                    "-o", str(tmp_path / "m.h5"), "--seed", str(seed), "--dataset", name],
                   check=True)
    got, _ = read_h5(tmp_path / "m.h5")
    assert sorted(got) == sorted(ref)
    for key in ref:
        nan_ok = ref[key].dtype.kind == "f"
        assert np.array_equal(got[key], ref[key], equal_nan=nan_ok), key


def _failing_chshml(bindir: Path, dataset: str, shard: int) -> dict:
    """A PATH in which `chshml sample ... --dataset D --shard K` fails (a crashed shard)."""
    real = shutil.which("chshml", path=str(Path(sys.executable).parent)) or "chshml"
    wrapper = bindir / "chshml"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'case " $* " in *" --dataset {dataset} --shard {shard} "*)\n'
        '  echo "injected failure" >&2; exit 3;;\n'
        "esac\n"
        f'exec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bindir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}"
                    f"{os.environ.get('PATH', '')}"}


@pytest.mark.slow
def test_resume_recomputes_only_the_failed_shard(tmp_path):
    work = tmp_path / "run"
    work.mkdir()
    (tmp_path / "bin").mkdir()
    env = _failing_chshml(tmp_path / "bin", "corr4_unbalanced", 1)
    first = snakemake(work, "data", "--cores", "2", env=env, timeout=600)
    assert first.returncode != 0  # the injected failure stops the run ...
    assert not (work / "results/data/corr4_unbalanced.h5").exists()
    assert (work / "results/data/volume8_l1ab.h5").exists()  # ... after the rest finished
    before = file_mtimes(work)

    second = snakemake(work, "data", "--cores", "2", timeout=600)  # the same command, shard healthy
    assert second.returncode == 0, second.stderr[-3000:]
    assert jobs_run(second.stdout + second.stderr) == {
        ("sample", "dataset=corr4_unbalanced, shard=1"),
        ("label", "dataset=corr4_unbalanced, shard=1"),
        ("merge", "dataset=corr4_unbalanced"),
        ("data", ""),
    }
    after = file_mtimes(work)
    changed = {p for p in after if before.get(p) != after[p]}
    assert changed == {"results/shards/corr4_unbalanced/sample_1.h5",
                       "results/shards/corr4_unbalanced/label_1.h5",
                       "results/data/corr4_unbalanced.h5"}

    # a lost shard file alone changes nothing: the merged dataset is complete and up to date
    (work / "results/shards/volume8_l1ab/label_0.h5").unlink()
    dry = snakemake(work, "data", "-n", timeout=120)
    assert jobs_run(dry.stdout + dry.stderr) == set()
    # a lost shard of a dataset that was never merged: only that shard and the merge run
    (work / "results/data/volume8_l1ab.h5").unlink()
    third = snakemake(work, "data", "--cores", "2", timeout=600)
    assert third.returncode == 0, third.stderr[-3000:]
    assert jobs_run(third.stdout + third.stderr) == {("label", "dataset=volume8_l1ab, shard=0"),
                                      ("merge", "dataset=volume8_l1ab"), ("data", "")}
    last = snakemake(work, "data", "-n", timeout=120)
    assert jobs_run(last.stdout + last.stderr) == set()  # nothing left to do


@pytest.mark.slow
def test_same_config_same_data_across_runs(tiny_run, tmp_path):
    """A second run with one core (another job order) gives identical merged datasets."""
    res = snakemake(tmp_path, "data", "--cores", "1", timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    for name in TINY_DATASETS:
        assert same_data(tiny_run / f"results/data/{name}.h5",
                         tmp_path / f"results/data/{name}.h5") == [], name


def test_dry_run_declares_every_test_set_and_report_input(tmp_path):
    res = snakemake(tmp_path, "-n", "report", configfile=None, timeout=120)
    assert res.returncode == 0, res.stderr + res.stdout
    shells = [line for line in res.stdout.splitlines() if line.startswith("Shell command:")]
    evals = [s for s in shells if " chshml evaluate " in f" {s.split(':', 1)[1]} "]
    assert evals
    for cmd in evals:  # every slice comes from a dataset of the data stage
        assert "--slice slice1=results/data/" in cmd and "--slice slice2=results/data/" in cmd
    full8 = [c for c in evals if "svm_full8_unbalanced.json" in c]
    assert "--slice slice1=results/data/full8_slice1.h5" in full8[0]
    assert "--slice slice8=results/data/full8_slice8.h5" in full8[0]
    report = [s for s in shells if "chshml report " in s and "--partial" not in s]
    assert len(report) == 1 and "--eval-dir" not in report[0] and "--data-dir" not in report[0]
    for opt in ("--eval results/eval/", "--data results/data/", "--validity results/data/",
                "--volume results/data/volume8_l3.h5", "--seesaw results/seesaw/table8.json",
                "--certify-table8 results/certify/table8.json"):
        assert opt in report[0]


def test_lint_and_format_are_clean(tmp_path):
    res = snakemake(tmp_path, "--lint", configfile=None, timeout=120)
    assert res.returncode == 0, res.stderr + res.stdout
    assert "Lints for" not in res.stdout + res.stderr
    if importlib.util.find_spec("snakefmt") is None:
        pytest.skip("snakefmt is not installed")
    fmt = subprocess.run([sys.executable, "-m", "snakefmt", "--check", str(REPO)],
                         capture_output=True, text=True, timeout=120)
    assert fmt.returncode == 0, fmt.stderr + fmt.stdout
