"""The certify stage of the workflow: Table VIII and Appendix A with Q, through profiles/local."""

import json
import subprocess
import sys

import numpy as np
import pytest
import yaml
from workflow_helpers import TINY, snakemake

from chshml.store import read_h5


@pytest.mark.slow
def test_certify_stage_table8_and_appendix_a(tmp_path):
    overlay = tmp_path / "certify.yaml"
    overlay.write_text(yaml.safe_dump({"certify": {
        "enabled": True, "table8": {"n_points": 30, "level": "4"},
        "appendix_a": {"n_directions": 3, "level": "4"}}}))
    proc = snakemake(tmp_path, "certify", "--configfile", str(TINY), str(overlay),
                     configfile=None, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    t8 = json.loads((tmp_path / "results/certify/table8.json").read_text())
    assert t8["n_points"] == 30 and t8["level"] == "4"
    assert t8["in_q"] + t8["refuted"] + t8["undecided"] == 30
    assert t8["in_q"] == sum(t8["atoms"].values()) and t8["in_q"] > 0
    assert t8["max_recon_error"] <= 1e-9
    data, _ = read_h5(tmp_path / "results/certify/table8.h5")
    assert np.array_equal(np.flatnonzero(data["label"] == 1).size, t8["in_q"])
    check = subprocess.run([sys.executable, "-m", "chshml.cli", "verify",
                            str(tmp_path / "results/certify/table8.h5")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    app = json.loads((tmp_path / "results/certify/appendix_a.json").read_text())
    assert app["n_directions"] == 3
    for lo_count, hi_count in app["counts_below"].values():
        assert 0 <= lo_count <= hi_count <= 3  # a certified range of counts


@pytest.mark.slow
def test_dataset_with_certified_q_labels(tmp_path):
    """`reference: Q`: a dataset's shards labelled by chshml certify, merged and verified."""
    overlay = tmp_path / "q.yaml"
    overlay.write_text(yaml.safe_dump({
        "run_datasets": ["volume8_l1", "volume8_q4"],
        "datasets": {"volume8_q4": {"points_from": "volume8_l1", "level": "4",
                                    "reference": "Q"}}}))
    proc = snakemake(tmp_path, "data", "--configfile", str(TINY), str(overlay),
                     configfile=None, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    q, attrs = read_h5(tmp_path / "results/data/volume8_q4.h5")
    l1, _ = read_h5(tmp_path / "results/data/volume8_l1.h5")
    assert np.array_equal(q["points"], l1["points"])
    assert attrs["reference"] == "Q" and attrs["command"] == "certify"
    # Q is inside Q_1: nothing certified in Q is outside Q_1
    assert not np.any((q["label"] == 1) & (l1["label"] == 0))
    check = subprocess.run([sys.executable, "-m", "chshml.cli", "verify",
                            str(tmp_path / "results/data/volume8_q4.h5")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
