"""``chshml verify``: stored witnesses re-checked with numpy alone; exit codes 0 / 1 / 2."""

import h5py
import numpy as np

from chshml import geometry as g
from chshml.cli import main
from chshml.npa import label_points
from chshml.store import write_h5


def labelled_file(path, level="1+AB"):
    rng = np.random.default_rng(1)
    verts = g.nonlocal_simplex_vertices(0)
    pts = np.vstack([rng.dirichlet(np.full(len(verts), 0.3), 60) @ verts, g.PR_BOXES[:2]])
    res = label_points(pts, level)
    data = {"points": pts, "lam": res.lam, "label": res.label, "status": res.status,
            "witness_beta": res.witness_beta, "witness_beta0": res.witness_beta0, **res.extra}
    write_h5(path, data, {"level": res.level, **res.attrs})
    return res


def test_verify_accepts_valid_and_rejects_tampered(tmp_path, capsys):
    path = tmp_path / "out.h5"
    res = labelled_file(path)
    assert (res.label == 0).sum() > 10
    assert main(["verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert "failed: 0" in out and "min margin" in out
    # lowering beta0 breaks the identity; a non-PSD Z is caught
    i = int(np.flatnonzero(res.label == 0)[0])
    with h5py.File(path, "r+") as f:
        f["witness_beta0"][i] = f["witness_beta0"][i] - 1e-3
    assert main(["verify", str(path)]) == 1
    labelled_file(path)
    with h5py.File(path, "r+") as f:
        z = f["certificate_Z"][i]
        z[0] = -1.0  # Z[0, 0] < 0
        f["certificate_Z"][i] = z
    assert main(["verify", str(path)]) == 1
    assert "not PSD" in capsys.readouterr().out


def test_verify_map_rebuilt_without_attrs_and_bad_input(tmp_path):
    path = tmp_path / "out.h5"
    res = labelled_file(path)
    data = {"points": np.zeros((1, 8)), "witness_beta": res.witness_beta[:1]}
    write_h5(tmp_path / "bad.h5", data, {"level": "1+AB"})
    assert main(["verify", str(tmp_path / "bad.h5")]) == 2
    assert main(["verify", str(tmp_path / "missing.h5")]) == 2
    # without the map attributes the checker rebuilds it from the level
    with h5py.File(path, "r+") as f:
        for key in [k for k in f.attrs if k.startswith("certificate_")]:
            del f.attrs[key]
    assert main(["verify", str(path)]) == 0


def test_label_zero_without_witness_fails(tmp_path):
    path = tmp_path / "out.h5"
    res = labelled_file(path, level="1")
    i = int(np.flatnonzero(res.label == 0)[0])
    with h5py.File(path, "r+") as f:
        f["witness_beta"][i] = np.full(8, np.nan)
    assert main(["verify", str(path)]) == 1


def test_points_outside_ns_carry_bare_facet_witnesses(tmp_path, capsys):
    # outside NS the NS facet binds: the certificate is Z = 0 with mu on that facet
    pts = np.vstack([2 * g.LOCAL_DETERMINISTIC_POINTS[:3], 1.5 * g.PR_BOXES[:2]])
    res = label_points(pts, "1+AB")
    assert (res.label == 0).all()
    assert np.all(res.extra["certificate_Z"][:3] == 0) and np.all(res.extra["certificate_mu"] >= 0)
    data = {"points": pts, "label": res.label, "witness_beta": res.witness_beta,
            "witness_beta0": res.witness_beta0, **res.extra}
    write_h5(tmp_path / "o.h5", data, {"level": res.level, **res.attrs})
    assert main(["verify", str(tmp_path / "o.h5")]) == 0, capsys.readouterr().out


def certified_file(path, level="1+AB"):
    from chshml.certify.membership import certify_points

    rng = np.random.default_rng(5)
    pts = np.vstack([rng.dirichlet(np.full(9, 0.5), 30) @ g.nonlocal_simplex_vertices(0),
                     g.PR_BOXES[:2], g.LOCAL_DETERMINISTIC_POINTS[:1]])
    res = certify_points(pts, level)
    write_h5(path, res.datasets(pts), {"level": res.level, "command": "certify", **res.attrs})
    return res


def test_verify_checks_certify_decompositions(tmp_path, capsys):
    path = tmp_path / "c.h5"
    res = certified_file(path)
    assert (res.label == 1).sum() > 5 and (res.label == 0).sum() > 2
    assert main(["verify", str(path)]) == 0
    assert "decompositions checked" in capsys.readouterr().out
    i = int(np.flatnonzero(res.n_atoms >= 2)[0])
    with h5py.File(path, "r+") as f:
        w = f["atom_weights"][i]
        w[0], w[1] = w[0] + 1e-4, w[1] - 1e-4          # still sums to 1: the mixture moves
        f["atom_weights"][i] = w
    assert main(["verify", str(path)]) == 1
    assert "misses the point" in capsys.readouterr().out
    certified_file(path)
    with h5py.File(path, "r+") as f:                    # label 1 without a decomposition
        n = f["n_atoms"][()]
        n[i] = 0
        f["n_atoms"][...] = n
    assert main(["verify", str(path)]) == 1
    certified_file(path)
    with h5py.File(path, "r+") as f:                    # a decomposition dataset missing
        del f["atom_angles"]
    assert main(["verify", str(path)]) == 2
