"""The adversarial sweep of issue 11, as a user would run it: one line and exit 2 (or the
right result), never a traceback, never a damaged input.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from chshml.store import read_h5

SRC = str(Path(__file__).resolve().parents[2] / "src")


def chshml(*args: str, cwd: Path, umask: int | None = None,
           timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC}
    pre = (lambda: os.umask(umask)) if umask is not None else None
    return subprocess.run([sys.executable, "-m", "chshml.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, preexec_fn=pre)


def one_line_error(res: subprocess.CompletedProcess, *words: str) -> None:
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    for w in words:
        assert w in lines[0], lines[0]


@pytest.fixture
def pts(tmp_path: Path) -> Path:
    p = tmp_path / "p.npy"
    np.save(p, np.random.default_rng(0).uniform(-1, 1, (12, 4)))
    return p


def test_output_equal_to_input_is_refused_and_input_kept(tmp_path, pts):
    before = pts.read_bytes()
    one_line_error(chshml("label", "p.npy", "-o", "p.npy", "--level", "1", cwd=tmp_path),
                   "is the input")
    assert pts.read_bytes() == before
    assert chshml("label", "p.npy", "-o", "l.h5", "--level", "1", "--quiet",
                  cwd=tmp_path).returncode == 0
    h5 = (tmp_path / "l.h5").read_bytes()
    one_line_error(chshml("label", "l.h5", "-o", "./l.h5", "--level", "1", cwd=tmp_path),
                   "is the input")
    one_line_error(chshml("select", "l.h5", "-o", "l.h5", cwd=tmp_path), "is the input")
    one_line_error(chshml("merge", "l.h5", "-o", "l.h5", cwd=tmp_path), "is the input")
    os.symlink("l.h5", tmp_path / "alias.h5")
    one_line_error(chshml("concat", "l.h5", "-o", "alias.h5", cwd=tmp_path), "is the input")
    assert (tmp_path / "l.h5").read_bytes() == h5


def test_evaluate_output_equal_to_data_is_refused(tmp_path):
    from tlm_data import tlm_dataset

    from chshml.models.training import train_model
    from chshml.store import write_h5

    data = tmp_path / "d.h5"
    write_h5(data, tlm_dataset(200, np.random.default_rng(1)), {"space": "corr4"})
    train_model("svm", data, tmp_path / "m.joblib", {"C": [10], "gamma": ["scale"]})
    before = data.read_bytes()
    one_line_error(chshml("evaluate", "m.joblib", "--data", "d.h5", "-o", "d.h5",
                          cwd=tmp_path), "is the input")
    one_line_error(chshml("evaluate", "m.joblib", "--data", "d.h5", "-o", "e.json",
                          "--slices-out", "d.h5", cwd=tmp_path), "--slices-out", "is the input")
    one_line_error(chshml("evaluate", "m.joblib", "--data", "d.h5", "-o", "e.json",
                          "--n-slice", "0", cwd=tmp_path), "--n-slice")
    one_line_error(chshml("predict", "m.joblib", "d.h5", "-o", "m.json", cwd=tmp_path),
                   "is the input")
    assert data.read_bytes() == before
    # model without sidecar, corrupt model, stale pair: refused by name
    (tmp_path / "m.json").rename(tmp_path / "gone.json")
    one_line_error(chshml("predict", "m.joblib", "d.h5", "-o", "o.h5", cwd=tmp_path),
                   "m.json", "missing")
    (tmp_path / "gone.json").rename(tmp_path / "m.json")
    meta = json.loads((tmp_path / "m.json").read_text())
    assert len(meta["model_sha256"]) == 64
    (tmp_path / "m.joblib").write_bytes(b"\x80\x04K\x6e.")  # pickle of 110
    one_line_error(chshml("predict", "m.joblib", "d.h5", "-o", "o.h5", cwd=tmp_path),
                   "does not match its metadata")
    meta.pop("model_sha256")
    (tmp_path / "m.json").write_text(json.dumps(meta))
    one_line_error(chshml("predict", "m.joblib", "d.h5", "-o", "o.h5", cwd=tmp_path),
                   "cannot load the model")


def test_train_settings_named_before_any_work(tmp_path):
    (tmp_path / "d.h5").write_bytes(b"")
    for bad, word in (("C=-1", "C"), ("C=[]", "C"), ("C=banana", "C"), ("C=[1,-2]", "C"),
                      ("foo=1", "foo")):
        one_line_error(chshml("train", "svm", "d.h5", "-o", "m.joblib", "--set", bad,
                              cwd=tmp_path), word)
    assert not (tmp_path / "m.joblib").exists()


@pytest.mark.slow
def test_special_and_odd_outputs(tmp_path, pts):
    one_line_error(chshml("label", "p.npy", "-o", "/dev/null", "--level", "1", cwd=tmp_path),
                   "character device")
    assert Path("/dev/null").is_char_device()
    os.mkfifo(tmp_path / "fifo.h5")
    one_line_error(chshml("label", "p.npy", "-o", "fifo.h5", "--level", "1", cwd=tmp_path),
                   "FIFO")
    (tmp_path / "dir.h5").mkdir()
    one_line_error(chshml("label", "p.npy", "-o", "dir.h5", "--level", "1", cwd=tmp_path),
                   "directory")
    one_line_error(chshml("seesaw", "p.npy", "-o", "dir.h5", "--dim", "2", "--seeds", "1",
                          cwd=tmp_path), "directory")
    assert not list(tmp_path.glob("*.progress"))
    one_line_error(chshml("label", "p.npy", "-o", "p.npy/x.h5", "--level", "1",
                          cwd=tmp_path), "not a directory")
    one_line_error(chshml("label", "p.npy", "-o", "out.txt", "--level", "1", cwd=tmp_path),
                   ".h5")
    open(tmp_path / "e.npy", "wb").close()
    one_line_error(chshml("label", "e.npy", "-o", "o.h5", "--level", "1", cwd=tmp_path),
                   "e.npy")
    # a symlinked output: the link stays, its target is written
    os.symlink("target.h5", tmp_path / "link.h5")
    assert chshml("label", "p.npy", "-o", "link.h5", "--level", "1", "--quiet",
                  cwd=tmp_path).returncode == 0
    assert (tmp_path / "link.h5").is_symlink() and (tmp_path / "target.h5").is_file()


def test_unwritable_folder_refused_first(tmp_path, monkeypatch):
    from chshml.errors import InputError
    from chshml.store import check_output

    real = os.access
    monkeypatch.setattr(os, "access", lambda p, m: False if str(p) == str(tmp_path)
                        else real(p, m))
    with pytest.raises(InputError, match="not writable"):
        check_output(tmp_path / "x.h5")


@pytest.mark.slow
def test_result_mode_follows_umask_and_stale_temps_go(tmp_path, pts):
    stale = tmp_path / ".l.h5.abcd1234.tmp"
    stale.write_bytes(b"half")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    res = chshml("label", "p.npy", "-o", "l.h5", "--level", "1", "--quiet", cwd=tmp_path,
                 umask=0o022)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "l.h5").stat().st_mode & 0o777 == 0o644
    assert not stale.exists()
    chshml("label", "p.npy", "-o", "g.h5", "--level", "1", "--quiet", cwd=tmp_path,
           umask=0o002)
    assert (tmp_path / "g.h5").stat().st_mode & 0o777 == 0o664


@pytest.mark.slow
def test_bad_options_one_line(tmp_path, pts):
    one_line_error(chshml("sample", "--space", "corr4", "--method", "uniform", "-n", "4",
                          "--seed", "99999999999999999999", "-o", "s.h5", cwd=tmp_path),
                   "--seed")
    one_line_error(chshml("sample", "--space", "corr4", "--method", "uniform", "-n", "4",
                          "--seed", "1", "--level", "banana", "-o", "s.h5", cwd=tmp_path),
                   "--level")
    one_line_error(chshml("label", "p.npy", "-o", "o.h5", "--level", "99", cwd=tmp_path),
                   "--level", "at most level 8")
    assert not (tmp_path / "s.h5").exists() and not (tmp_path / "o.h5").exists()


@pytest.mark.slow
def test_boundary_epsilon_unreachable_ends_fast(tmp_path):
    t = time.monotonic()
    # the paper's recipe: (1 + 0.9) p_b leaves NS and is labelled 0 -- done in seconds
    res = chshml("sample", "--space", "full8", "--method", "boundary", "-n", "4", "--seed",
                 "1", "--epsilon", "0.9", "-o", "b9.h5", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert sorted(read_h5(tmp_path / "b9.h5")[0]["label"].tolist()) == [0, 0, 1, 1]
    one_line_error(chshml("sample", "--space", "full8", "--method", "boundary", "-n", "4",
                          "--seed", "1", "--epsilon", "0.9", "--recipe", "ns_interior",
                          "-o", "b.h5", cwd=tmp_path), "--epsilon")
    one_line_error(chshml("sample", "--space", "full8", "--method", "boundary", "-n", "4",
                          "--seed", "1", "--epsilon", "1.5", "-o", "b.h5", cwd=tmp_path),
                   "--epsilon")
    res = chshml("sample", "--space", "corr4", "--method", "boundary", "-n", "4", "--seed",
                 "1", "--epsilon", "0.4", "--recipe", "ns_interior", "-o", "b.h5", cwd=tmp_path)
    assert res.returncode == 2 and "--epsilon 0.4" in res.stderr
    assert "Traceback" not in res.stderr and "[chshml]" not in res.stderr.splitlines()[-1]
    assert time.monotonic() - t < 60
    # the paper's recipe keeps outer points beyond NS (label 0): any epsilon is reachable
    res = chshml("sample", "--space", "corr4", "--method", "boundary", "-n", "4", "--seed",
                 "1", "--epsilon", "0.4", "-o", "b.h5", cwd=tmp_path)
    assert res.returncode == 0, res.stderr


@pytest.mark.slow
def test_sampler_labels_verify(tmp_path):
    for method in ("balanced", "spread"):
        res = chshml("sample", "--space", "full8", "--method", method, "-n", "16", "--seed",
                     "2", "--sigma", "0.001", "-o", f"{method}.h5", cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert "[chshml]" in res.stderr  # progress lines
    res = chshml("merge", "balanced.h5", "-o", "merged.h5", "--attr", 'level="1+AB"',
                 cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    for name in ("balanced.h5", "spread.h5", "merged.h5"):
        res = chshml("verify", name, cwd=tmp_path)
        assert res.returncode == 0 and "OK" in res.stdout, res.stdout + res.stderr
    with h5py.File(tmp_path / "balanced.h5") as f:
        assert (f["label"][()] == 0).sum() == 8
        assert np.isfinite(f["witness_beta0"][()][f["label"][()] == 0]).all()


@pytest.mark.slow
def test_verify_refuses_bad_labels_and_short_lam(tmp_path, pts):
    from chshml.store import read_h5, write_h5

    assert chshml("label", "p.npy", "-o", "l.h5", "--level", "1", "--quiet",
                  cwd=tmp_path).returncode == 0
    data, attrs = read_h5(tmp_path / "l.h5")
    write_h5(tmp_path / "seven.h5", {**data, "label": np.full(len(data["label"]), 7)}, attrs)
    write_h5(tmp_path / "short.h5", {**data, "lam": data["lam"][:3]}, attrs)
    one_line_error(chshml("verify", "seven.h5", cwd=tmp_path), "label 7")
    one_line_error(chshml("verify", "short.h5", cwd=tmp_path), "lam has 3 rows")
    res = chshml("verify", "l.h5", cwd=tmp_path)
    if "witnesses checked: 0" in res.stdout:
        assert "nan" not in res.stdout


def test_deep_points_are_quantum():
    from chshml.npa import label_points
    from chshml.sampling.polytope import uniform_canonical_simplex

    p = uniform_canonical_simplex(20, 8, np.random.default_rng(3)) * 1e-9
    for solver in ("auto", "clarabel"):
        res = label_points(p, "1+AB", solver=solver)
        assert (res.label == 1).all() and np.isfinite(res.lam).all()
        assert np.all(res.lam_lo > 1e8)


def test_decide_relative():
    from chshml.npa.labelling import decide

    lam = np.array([1e9, 1 + 1e-3, 0.5, 2.0, 1 + 1e-3])
    width = np.array([1e-4, 1e-4, 1e-7, 1.0, 1e-2])
    lab = decide(lam, width, 1e-6, lam - width / 2, lam + width / 2)
    assert lab.tolist() == [1, 1, 0, 1, -1]


def test_batched_progress_lines(capsys):
    from chshml.npa import label_points

    p = np.random.default_rng(4).uniform(-1, 1, (50, 4))
    label_points(p, "1", progress=True)
    assert "label level 1 (batched)" in capsys.readouterr().err


def test_svm_keys_match_dataclass():
    from chshml.models._config import KEYS
    from chshml.models.svm import SVMConfig

    assert set(KEYS["svm"]) == set(SVMConfig.__dataclass_fields__)


@pytest.mark.slow
def test_recovery_recipe_after_sigkill(tmp_path):
    """README: after a hard kill, `snakemake --unlock --profile P && snakemake --profile P`."""
    from workflow_helpers import TINY, snakemake

    env = {"PYTHONPATH": SRC}
    bindir = str(Path(sys.executable).parent)
    cmd = [str(Path(bindir) / "snakemake"), "data", "-s", str(TINY.parents[1] / "Snakefile"),
           "--profile", str(TINY.parents[1] / "profiles" / "local"), "--configfile", str(TINY)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env={**os.environ, **env,
                            "PATH": bindir + os.pathsep + os.environ["PATH"]},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while (time.monotonic() < deadline and proc.poll() is None
           and not list((tmp_path / "results").rglob("*.h5"))):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list((tmp_path / ".snakemake" / "locks").glob("*")), "expected a stale lock"
    res = snakemake(tmp_path, "--unlock", env=env)  # the README's recipe, literally
    assert res.returncode == 0, res.stderr[-2000:]
    res = snakemake(tmp_path, "data", env=env, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    assert (tmp_path / "results" / "data" / "corr4_unbalanced.h5").is_file()
