"""chshml seesaw: realisations written, certified points skipped."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from chshml.seesaw.progress import progress_dir
from chshml.seesaw.realisation import (
    behaviour,
    check_realisation,
    qubit_realisation,
)

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
