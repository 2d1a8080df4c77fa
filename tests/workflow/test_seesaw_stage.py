"""The see-saw stage of the workflow: Table VIII rounds and Appendix A through profiles/local."""

import json

import numpy as np
import pytest
from workflow_helpers import REPO, TINY, snakemake

from chshml.store import read_h5


@pytest.mark.slow
def test_seesaw_rounds_and_appendix_a(tmp_path):
    proc = snakemake(tmp_path, "seesaw", "--configfile", str(TINY),
                     str(REPO / "config" / "tiny_seesaw.yaml"), configfile=None, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = json.loads((tmp_path / "results/seesaw/table8.json").read_text())["rounds"]
    assert [r["d"] for r in table] == [2, 3]
    kept, _ = read_h5(tmp_path / "results/seesaw/table8/round0.h5")
    assert table[0]["points_tried"] == len(kept["points"])
    # the rounds start from the points of dataset seesaw_table8 that lie in Q_filter_level
    drawn, attrs = read_h5(tmp_path / "results/data/seesaw_table8.h5")
    assert len(drawn["points"]) == 8 and attrs["level"] == "2"
    assert np.array_equal(kept["points"], drawn["points"][drawn["label"] == 1])
    # round 2 tries exactly the points round 1 left uncertified
    assert table[1]["points_tried"] == table[0]["points_tried"] - table[0]["newly_certified"]
    last, _ = read_h5(tmp_path / "results/seesaw/table8/round2.h5")
    assert int(last["certified"].sum()) == table[1]["certified_total"]
    summary = json.loads((tmp_path / "results/seesaw/appendix_a.json").read_text())
    assert summary["n_points"] == 3 and summary["d"] == 2
    rays, _ = read_h5(tmp_path / "results/data/seesaw_appendix_a.h5")
    assert len(rays["points"]) == 3 and "lam" in rays
    merged, _ = read_h5(tmp_path / "results/seesaw/appendix_a.h5")
    # the see-saw targets are Q_1+AB boundary points: lam * direction, inside NS
    from chshml.geometry import ns_violation

    assert np.all(ns_violation(merged["points"]) <= 1e-9)
    assert (tmp_path / "results/seesaw/fig6.png").stat().st_size > 1000
