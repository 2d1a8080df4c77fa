"""The ``chshml sample`` and ``chshml label`` commands, including every bad-input case."""

import subprocess
import sys

import h5py
import numpy as np
import pytest

from chshml import geometry as g
from chshml.cli import main
from chshml.store import read_h5


def test_sample_then_label_round_trip(tmp_path):
    pts = tmp_path / "pts.h5"
    out = tmp_path / "lab.h5"
    assert main(["sample", "--space", "corr4", "--method", "uniform", "-n", "30", "--seed", "4",
                 "-o", str(pts)]) == 0
    assert main(["label", str(pts), "-o", str(out), "--level", "1", "--quiet"]) == 0
    data, attrs = read_h5(out)
    assert data["points"].shape == (30, 4)
    assert data["lam"].dtype == np.float64 and data["label"].dtype == np.int8
    assert len(data["status"]) == 30 and isinstance(data["status"][0], str)
    assert attrs["level"] == "1" and attrs["space"] == "corr4"
    assert attrs["solver"] in ("CLARABEL", "MOSEK") and "chshml_version" in attrs
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("method", ["uniform", "simplex", "directions", "boundary", "balanced",
                                    "spread"])
@pytest.mark.parametrize("space", ["corr4", "full8"])
def test_every_sampling_method_writes_valid_behaviours(tmp_path, method, space):
    out = tmp_path / "s.h5"
    assert main(["sample", "--space", space, "--method", method, "-n", "12", "--seed", "1",
                 "--epsilon", "1e-3", "-o", str(out)]) == 0
    data, attrs = read_h5(out)
    dim = 4 if space == "corr4" else 8
    assert data["points"].shape == (12, dim)
    from chshml.geometry import chsh_values, ns_violation

    outside = ns_violation(data["points"]) > 1e-9
    # the paper's boundary/spread recipe keeps outer points beyond NS, labelled 0
    assert not outside.any() or (method in ("boundary", "spread")
                                 and np.all(data["label"][outside] == 0))
    if space == "full8" and method in ("simplex", "balanced", "boundary", "directions"):
        assert np.all(chsh_values(data["points"])[:, 0] >= 2 - 1e-9)
    if method in ("balanced", "boundary", "spread"):
        assert set(np.unique(data["label"])) <= {0, 1}


def _write_h5(path, points):
    with h5py.File(path, "w") as f:
        f["points"] = points


BAD_INPUTS = {
    "wrong_width": (lambda p: _write_h5(p, np.zeros((3, 5))), "shape"),
    "nan_row": (lambda p: _write_h5(p, np.array([[0.0] * 4, [0.0, np.nan, 0, 0]])), "row 1"),
    "inf_row": (lambda p: _write_h5(p, np.array([[0.0] * 4, [0] * 4, [np.inf, 0, 0, 0]])),
                "row 2"),
    "outside_ns": (lambda p: _write_h5(p, np.array([[0.1] * 8, [0.9, 0.9, 0.9, 0.9, -0.9, 0,
                                                                 0, 0]])), "row 1"),
    "no_points_dataset": (lambda p: h5py.File(p, "w").close(), "points"),
    "garbage_file": (lambda p: p.write_bytes(b"not an hdf5 file"), "cannot read"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line_and_no_output(tmp_path, capsys, case):
    make, needle = BAD_INPUTS[case]
    src = tmp_path / "in.h5"
    make(src)
    out = tmp_path / "out.h5"
    assert main(["label", str(src), "-o", str(out), "--level", "1+AB"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    assert list(tmp_path.iterdir()) == [src]


@pytest.mark.parametrize(("option", "value", "needle"), [
    ("--level", "7+XY", "--level"), ("--solver", "gurobi", "solver"),
    ("--tol", "-1", "--tol"), ("--level", "5", "--solver batched"),
])
def test_bad_options_exit_2(tmp_path, capsys, option, value, needle):
    src = tmp_path / "in.npy"
    np.save(src, np.zeros((2, 8)))
    # level 5 is not validated for the batched solver: naming it there is refused
    args = {"--level": "1", "--solver": "batched" if value == "5" else "auto", "--tol": "1e-6"}
    args[option] = value
    argv = ["label", str(src), "-o", str(tmp_path / "out.h5")]
    for k, v in args.items():
        argv += [k, v]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]
    assert not (tmp_path / "out.h5").exists()


def test_solver_batched_by_name(tmp_path):
    pts = np.vstack([g.PR_BOXES[:2], 0.5 * g.LOCAL_DETERMINISTIC_POINTS[:2], np.zeros((1, 8))])
    np.save(tmp_path / "in.npy", pts)
    assert main(["label", str(tmp_path / "in.npy"), "-o", str(tmp_path / "o.h5"),
                 "--level", "1+AB", "--solver", "batched", "--quiet"]) == 0
    data, attrs = read_h5(tmp_path / "o.h5")
    assert data["label"].tolist() == [0, 0, 1, 1, 1]
    assert attrs["engine"].startswith("batched+")
    assert all(s.startswith("batched:") or s == "origin" for s in data["status"].astype(str))


def test_missing_file_and_csv_input(tmp_path, capsys):
    assert main(["label", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o.h5"),
                 "--level", "1"]) == 2
    assert "not found" in capsys.readouterr().err
    csv = tmp_path / "in.csv"
    csv.write_text("A0B0,A0B1,A1B0,A1B1\n0.1,0.2,0.3,0.4\n1,1,1,-1\n")
    assert main(["label", str(csv), "-o", str(tmp_path / "o.h5"), "--level", "1", "--quiet"]) == 0
    data, _ = read_h5(tmp_path / "o.h5")
    assert data["label"].tolist() == [1, 0]
    csv.write_text("0.1,0.2,0.3,0.4\n0.1,zero,0.3,0.4\n")
    assert main(["label", str(csv), "-o", str(tmp_path / "p.h5"), "--level", "1"]) == 2
    assert "line 2" in capsys.readouterr().err
    assert not (tmp_path / "p.h5").exists()


def test_mosek_without_licence_is_refused_by_name(tmp_path, capsys):
    from chshml.npa.solvers import mosek_status

    usable, reason = mosek_status()
    if usable:
        pytest.skip("a MOSEK licence is present on this machine")
    print(f"MOSEK not usable here: {reason}", file=sys.stderr)
    np.save(tmp_path / "in.npy", np.zeros((1, 8)))
    assert main(["label", str(tmp_path / "in.npy"), "-o", str(tmp_path / "o.h5"),
                 "--level", "1", "--solver", "mosek"]) == 2
    assert "mosek" in capsys.readouterr().err


def test_console_script_exit_code(tmp_path):
    src = tmp_path / "in.npy"
    np.save(src, np.full((2, 4), np.nan))
    proc = subprocess.run([sys.executable, "-m", "chshml.cli", "label", str(src), "-o",
                           str(tmp_path / "o.h5"), "--level", "1"], capture_output=True, text=True)
    assert proc.returncode == 2 and "row 0" in proc.stderr


def test_usage_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["sample", "--space", "nine", "--method", "uniform", "-n", "3", "--seed", "1",
              "-o", "x.h5"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--space" in err[0]
