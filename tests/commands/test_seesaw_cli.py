"""chshml seesaw: realisations written, certified points skipped."""

from __future__ import annotations

import h5py
import numpy as np
from seesaw_helpers import beyond_tsirelson, random_qubit_points, write_input

from chshml.progress import progress_dir
from chshml.seesaw.realisation import (
    check_realisation,
)


def test_cli_writes_realisations_and_skips_certified(tmp_path):
    from chshml.cli import main

    points = np.vstack([random_qubit_points(2, 31), beyond_tsirelson(0.01)[None]])
    inp, out = tmp_path / "in.h5", tmp_path / "out.h5"
    write_input(inp, points, np.array([0, 1, 0], dtype=np.int8))
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
