"""Metrics, spread sets, slices and Monte Carlo volumes against exact 4-D truth."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score

from chshml import evaluate as ev
from chshml.geometry import SLICES, is_local, ns_violation, tlm_margin


def test_accuracies_match_scikit_learn_and_skip_undecided():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    y[:40] = 1
    yhat = np.where(rng.random(300) < 0.7, y, 1 - y)
    assert ev.balanced_accuracy(y, yhat) == pytest.approx(balanced_accuracy_score(y, yhat))
    assert ev.accuracy(y, yhat) == pytest.approx(np.mean(y == yhat))
    y_und = y.copy()
    y_und[:50] = -1
    assert ev.accuracy(y_und, yhat) == pytest.approx(np.mean(y[50:] == yhat[50:]))
    assert ev.scores(y_und, yhat)["n_undecided"] == 50


def test_spread_labels_are_inward_shift_and_agree_with_tlm():
    rng = np.random.default_rng(2)
    pb = ev.boundary_4d(2000, rng, recipe="ns_interior")
    assert np.all(np.abs(tlm_margin(pb)) < 1e-9)  # on the TLM boundary
    assert np.all(ns_violation(pb) < 0)  # not on the cube's surface
    x, y = ev.spread_points(pb, 1e-2, rng)
    assert 0.45 < y.mean() < 0.55
    truth = ev.tlm_labels(x)
    assert np.mean(truth == y) > 0.999  # inward (label 1) = quantum
    assert ev.spread_accuracy(ev.tlm_labels, pb, 1e-3, rng) > 0.999
    assert ev.spread_accuracy(lambda p: np.ones(len(p)), pb, 1e-3, rng) == pytest.approx(0.5,
                                                                                       abs=0.05)


def test_uniform_samplers_land_where_they_should():
    rng = np.random.default_rng(3)
    s = ev.uniform_canonical_simplex(500, rng)
    assert np.all(ns_violation(s) <= 1e-12) and not np.any(is_local(s, tol=-1e-12))
    ns8 = ev.uniform_ns(300, 8, rng)
    assert ns8.shape == (300, 8) and np.all(ns_violation(ns8) <= 0)


def test_slice_accuracy_is_one_for_the_truth_and_share_for_a_constant():
    rng = np.random.default_rng(4)
    for name in ("slice1", "slice2"):
        res = ev.evaluate_slice(ev.tlm_labels, SLICES[name], 4, 2000, rng)
        assert res.acc == 1.0 and res.xy.shape == (2000, 2)
        res8 = ev.evaluate_slice(lambda p: ev.tlm_labels(p[:, 4:]), SLICES[name], 8, 500, rng)
        assert res8.acc == 1.0
        const = ev.evaluate_slice(lambda p: np.ones(len(p)), SLICES[name], 4, 2000, rng)
        assert const.acc == pytest.approx(const.truth.mean())


def test_volumes_agree_with_the_literature():
    rng = np.random.default_rng(5)
    q, se = ev.volume_q4(200_000, rng)
    assert abs(q - 0.925) < 5 * se + 1e-3
    ex = ev.chsh_exit_share(200_000, rng)
    assert ex["any"] == pytest.approx(8 * ex["canonical"], rel=0.15)
    assert abs(ex["canonical"] - 0.0021) < 0.0004


def test_evaluate_cli_writes_all_measures(tmp_path):
    from chshml.cli import main
    from chshml.models.training import train_model
    from chshml.store import write_h5

    data = tmp_path / "corr4_offset_1e-2.h5"
    write_h5(data, ev.tlm_dataset(300, np.random.default_rng(6), "offset", 1e-2),
             {"space": "corr4"})
    model = tmp_path / "svm.joblib"
    train_model("svm", data, model, {"C": [10], "gamma": ["scale"]})
    out = tmp_path / "eval" / "svm.json"
    slices = tmp_path / "eval" / "svm_slices.h5"
    rc = main(["evaluate", str(model), "--data", str(data), "-o", str(out), "--n-slice", "500",
               "--n-spread", "500", "--n-uniform", "500", "--slices-out", str(slices)])
    assert rc == 0
    d = json.loads(out.read_text())
    for key in ("test", "train", "val", "unbalanced"):
        assert 0 <= d[key]["acc"] <= 1
    assert set(d["spread"]) == {"0.01", "0.001"}
    assert len(d["spread_curve"]["acc"]) == len(d["spread_curve"]["sigma"]) == 13
    assert set(d["slices"]) == {"slice1", "slice2"} and slices.is_file()
    assert d["test"]["n"] == 45 and d["unbalanced"]["n"] == 500
