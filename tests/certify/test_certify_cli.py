"""``chshml certify`` and ``chshml verify`` on its output: contract, bad input, tampering."""

import h5py
import numpy as np
import pytest
from _helpers import qubit_realisations

from chshml import geometry as g
from chshml.cli import main
from chshml.store import read_h5


@pytest.fixture(scope="module")
def certified(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("certify")
    rng = np.random.default_rng(3)
    pts = np.vstack([rng.dirichlet(np.ones(9), 40) @ g.nonlocal_simplex_vertices(0),
                     qubit_realisations(10, seed=4), g.PR_BOXES[:2],
                     g.LOCAL_DETERMINISTIC_POINTS[:2]])
    np.save(tmp / "in.npy", pts)
    out = tmp / "out.h5"
    assert main(["certify", str(tmp / "in.npy"), "-o", str(out), "--level", "3",
                 "--quiet"]) == 0
    return tmp, pts, out


def test_output_contract(certified):
    _, pts, out = certified
    data, attrs = read_h5(out)
    n = len(pts)
    assert data["label"].dtype == np.int8 and set(data["label"]) <= {-1, 0, 1}
    assert data["atom_weights"].shape == (n, 9) and data["atom_state"].shape == (n, 9, 4)
    assert data["atom_angles"].shape == (n, 9, 4) and data["n_atoms"].shape == (n,)
    for key in ("lam", "lam_lo", "lam_hi", "status", "gap", "witness_beta", "witness_beta0",
                "certificate_Z", "certificate_mu", "rows"):
        assert len(data[key]) == n, key
    assert attrs["level"] == "3" and attrs["cpu_seconds"] > 0 and "chshml_version" in attrs
    assert (data["label"] == 1).sum() >= 40 and (data["label"][-4:-2] == 0).all()
    assert attrs["n_quantum"] + attrs["n_not_quantum"] + attrs["n_undecided"] == n


def test_verify_accepts_and_rejects_tampering(certified, capsys):
    tmp, _, out = certified
    assert main(["verify", str(out)]) == 0
    assert "decompositions checked" in capsys.readouterr().out
    data, _ = read_h5(out)
    i = int(np.flatnonzero(data["n_atoms"] >= 2)[0])
    j = int(np.argmax(data["atom_weights"][i]))
    for name, index, delta in (("atom_weights", (i, j), 1e-6),
                               ("atom_angles", (i, j, 1), 1e-3),
                               ("atom_state", (i, j, 0), 1e-6)):
        bad = tmp / f"bad_{name}.h5"
        bad.write_bytes(out.read_bytes())
        with h5py.File(bad, "r+") as f:
            arr = f[name][()]
            arr[index] += delta
            f[name][...] = arr
        assert main(["verify", str(bad), "--quiet"]) == 1, name
        assert f"FAIL point {i}" in capsys.readouterr().out


def test_bad_input_one_line_exit_2_nothing_written(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("0.1,0.2,0.3,0.4\n0.1,nan,0.3,0.4\n")
    out = tmp_path / "o.h5"
    assert main(["certify", str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "row 1" in err
    assert not out.exists() and not list(tmp_path.glob(".o.h5*"))
    good = tmp_path / "good.npy"
    np.save(good, g.LOCAL_DETERMINISTIC_POINTS[:2])
    assert main(["certify", str(good), "-o", str(out), "--level", "7x"]) == 2
    assert "--level" in capsys.readouterr().err
    assert main(["certify", str(good), "-o", str(out), "--shard", "3", "--shards", "2"]) == 2
    assert not out.exists()


def test_shards_partition_the_rows(tmp_path):
    pts = g.LOCAL_DETERMINISTIC_POINTS[:5]
    np.save(tmp_path / "in.npy", pts)
    rows = []
    for k in (0, 1):
        out = tmp_path / f"s{k}.h5"
        assert main(["certify", str(tmp_path / "in.npy"), "-o", str(out), "--level", "1+AB",
                     "--shard", str(k), "--shards", "2", "--quiet"]) == 0
        data, attrs = read_h5(out)
        assert np.array_equal(data["points"], pts[data["rows"]]) and attrs["shards"] == 2
        rows.extend(data["rows"].tolist())
    assert sorted(rows) == list(range(5))


def test_checkpoint_folder_is_kept_for_resume_and_removed_by_clean(certified, tmp_path):
    tmp, _, out = certified
    assert (tmp / "out.h5.progress" / "block_0.npz").is_file()  # a rerun would load it
    again = tmp_path / "again.h5"
    assert main(["certify", str(tmp / "in.npy"), "-o", str(again), "--level", "3", "--quiet",
                 "--clean"]) == 0
    assert again.is_file() and not (tmp_path / "again.h5.progress").exists()
    a, _ = read_h5(out)
    b, _ = read_h5(again)
    assert np.array_equal(a["label"], b["label"]) and np.array_equal(a["n_atoms"], b["n_atoms"])
