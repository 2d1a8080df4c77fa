"""Metrics, the spread test, slices and the evaluation protocol against exact 4-D truth."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score
from tlm_data import tlm_dataset, tlm_slice_file_data, tlm_spread_file_data

from chshml import metrics
from chshml.evaluation import slices, spread
from chshml.geometry import SLICES, ns_violation, tlm_labels, tlm_margin


def test_accuracies_match_scikit_learn_and_skip_undecided():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    y[:40] = 1
    yhat = np.where(rng.random(300) < 0.7, y, 1 - y)
    assert metrics.balanced_accuracy(y, yhat) == pytest.approx(balanced_accuracy_score(y, yhat))
    assert metrics.accuracy(y, yhat) == pytest.approx(np.mean(y == yhat))
    y_und = y.copy()
    y_und[:50] = -1
    assert metrics.accuracy(y_und, yhat) == pytest.approx(np.mean(y[50:] == yhat[50:]))
    assert metrics.scores(y_und, yhat)["n_undecided"] == 50
    assert metrics.binomial_se(0.5, 100) == pytest.approx(0.05)


def test_spread_labels_are_inward_shift_and_agree_with_tlm():
    from chshml.sampling.labelled import spread_set

    rng = np.random.default_rng(2)
    pb = spread.boundary_4d(2000, rng, recipe="ns_interior")
    assert np.all(np.abs(tlm_margin(pb)) < 1e-9)  # on the TLM boundary
    assert np.all(ns_violation(pb) < 0)  # not on the cube's surface
    s = spread_set(pb, 1e-2, rng)
    assert 0.45 < s.label.mean() < 0.55
    assert np.mean(tlm_labels(s.points) == s.label) > 0.999  # inward (label 1) = quantum
    assert spread.spread_accuracy(tlm_labels, pb, 1e-3, rng) > 0.999
    assert spread.spread_accuracy(lambda p: np.ones(len(p)), pb, 1e-3, rng) == pytest.approx(
        0.5, abs=0.05)
    assert len(spread.curve_sigmas(13)) == 13 and spread.curve_sigmas(2) == (1e-4, 1e-1)


def test_expected_spread_accuracy_matches_drawn_shifts_of_a_perturbed_gauge():
    """A homogeneous model with gauge ``(1 + e(u)) lam_TLM``: the expectation from its errors
    ``e`` at the boundary points agrees with the accuracy on drawn shifts.
    """
    from chshml.geometry import tlm_gauge

    rng = np.random.default_rng(5)
    pb = spread.boundary_4d(4000, rng, recipe="ns_interior")

    def rel_error(p: np.ndarray) -> np.ndarray:
        u = p / np.linalg.norm(p, axis=1, keepdims=True)
        return 2e-3 * np.sin(7.0 * u[:, 0] + 3.0 * u[:, 2])

    def model_labels(p: np.ndarray) -> np.ndarray:
        return (tlm_gauge(p) * (1.0 + rel_error(p)) >= 1.0).astype(int)

    sigma = 1e-3
    expected = spread.expected_spread_accuracy(rel_error(pb), sigma)
    drawn = np.mean([spread.spread_accuracy(model_labels, pb, sigma, rng) for _ in range(5)])
    assert 0.6 < expected < 0.9  # the perturbation matters at this sigma
    assert drawn == pytest.approx(expected, abs=4 * np.sqrt(0.25 / (5 * len(pb))))
    assert spread.expected_spread_accuracy(np.zeros(10), sigma) == 1.0
    assert spread.expected_spread_accuracy(np.full(10, np.inf), sigma) == 0.5
    assert np.isnan(spread.expected_spread_accuracy(np.zeros(0), sigma))


def test_boundary_from_gauge_drops_ns_facet_and_unsolved_points():
    pts = np.array([[0.1, 0.1, 0.1, -0.1], [0.5, 0.0, 0.0, 0.0], [0.2, 0.2, 0.2, 0.2]])
    lam = np.array([np.sqrt(2) * 10 / 4 * 0.999, 2.0, np.nan])
    pb = spread.boundary_from_gauge(pts, lam)
    assert len(pb) == 1 and np.allclose(pb[0], lam[0] * pts[0])


def test_slice_accuracy_is_one_for_the_truth_and_share_for_a_constant():
    rng = np.random.default_rng(4)
    for name in ("slice1", "slice2"):
        d = tlm_slice_file_data(name, 2000, rng)
        res = slices.evaluate_slice(tlm_labels, SLICES[name], 4, d["points"], d["label"])
        assert res.acc == 1.0 and res.xy.shape == (2000, 2)
        xy, _ = SLICES[name].uniform(5, np.random.default_rng(0))
        assert np.allclose(slices.slice_coordinates(SLICES[name], SLICES[name].embed(xy)), xy)
        res8 = slices.evaluate_slice(lambda p: tlm_labels(p[:, 4:]), SLICES[name], 8,
                                     d["points"][:500], d["label"][:500])
        assert res8.acc == 1.0
        const = slices.evaluate_slice(lambda p: np.ones(len(p)), SLICES[name], 4, d["points"],
                                      d["label"])
        assert const.acc == pytest.approx(const.truth.mean())


def test_ns_wide_accuracy_counts_local_points_correct():
    from chshml.evaluation.protocol import ns_wide_accuracy

    assert ns_wide_accuracy(1.0, 100)["acc"] == pytest.approx(1.0)
    assert ns_wide_accuracy(0.0, 100)["acc"] == pytest.approx(16 / 17)


@pytest.fixture(scope="module")
def svm_files(tmp_path_factory):
    from chshml.models.training import train_model
    from chshml.store import write_h5

    tmp = tmp_path_factory.mktemp("eval")
    rng = np.random.default_rng(6)
    data = tmp / "corr4_offset_1e-2.h5"
    write_h5(data, tlm_dataset(300, rng, "offset", 1e-2), {"space": "corr4"})
    model = tmp / "svm.joblib"
    train_model("svm", data, model, {"C": [10], "gamma": ["scale"]})
    uniform = tmp / "uniform.h5"
    write_h5(uniform, tlm_dataset(500, rng), {"space": "corr4"})
    files = {"data": data, "model": model, "uniform": uniform}
    pb = spread.boundary_4d(400, rng)
    for sigma in (1e-2, 1e-3):
        files[sigma] = tmp / f"spread_{sigma:g}.h5"
        write_h5(files[sigma], tlm_spread_file_data(400, sigma, rng, pb),
                 {"space": "corr4", "recipe": "paper"})
    for name in ("slice1", "slice2"):
        files[name] = tmp / f"{name}.h5"
        write_h5(files[name], tlm_slice_file_data(name, 500, rng), {"space": "corr4"})
    return files


def test_evaluate_cli_writes_all_measures_from_files(svm_files, tmp_path):
    from chshml.cli import main

    f = svm_files
    out = tmp_path / "eval" / "svm.json"
    slices_out = tmp_path / "eval" / "svm_slices.h5"
    rc = main(["evaluate", str(f["model"]), "--data", str(f["data"]), "-o", str(out),
               "--uniform-test", str(f["uniform"]), "--spread", f"0.01={f[1e-2]}",
               "--spread", f"1e-3={f[1e-3]}", "--slice", f"slice1={f['slice1']}",
               "--slice", f"slice2={f['slice2']}", "--n-slice", "5", "--slices-out",
               str(slices_out)])
    assert rc == 0
    d = json.loads(out.read_text())
    assert list(d)[:12] == ["model", "model_file", "kind", "dataset", "space", "seed",
                            "model_meta", "recipe", "level", "train", "val", "test"]
    for key in ("test", "train", "val", "unbalanced"):
        assert 0 <= d[key]["acc"] <= 1
    assert set(d["spread"]) == {"0.01", "0.001"} and d["spread"]["0.01"]["n"] == 400
    assert len(d["spread_curve"]["acc"]) == len(d["spread_curve"]["sigma"]) == 13
    assert d["spread_curve"]["n"] == 400 and d["spread_curve"]["recipe"] == "paper"
    assert set(d["slices"]) == {"slice1", "slice2"} and slices_out.is_file()
    assert d["slices"]["slice1"]["n"] == 500  # --n-slice is ignored: the file decides
    assert d["test"]["n"] == 45 and d["unbalanced"]["n"] == 500 and d["notes"] == []
    assert "unbalanced_ns_wide" not in d  # 8-D only


def test_evaluate_reports_sets_not_given_as_not_measured(svm_files, tmp_path):
    from chshml.cli import main

    f = svm_files
    out = tmp_path / "svm.json"
    assert main(["evaluate", str(f["model"]), "--data", str(f["data"]), "-o", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["unbalanced"] is None and d["spread"] == {} and d["slices"] == {}
    assert "spread_curve" not in d
    assert len(d["notes"]) == 6 and all("not measured" in n for n in d["notes"])


def test_evaluate_model_is_a_library_call(svm_files):
    from chshml.evaluation import evaluate_model, load_test_sets
    from chshml.models import load_model
    from chshml.store import load_dataset

    f = svm_files
    sets = load_test_sets(str(f["uniform"]), {1e-2: str(f[1e-2])}, {"slice2": str(f["slice2"])})
    res = evaluate_model(load_model(f["model"]), load_dataset(f["data"]), sets,
                         np.random.default_rng(0), name="m", curve_points=3)
    d = res.to_dict()
    assert d["model"] == "m" and set(d["spread"]) == {"0.01"} and set(d["slices"]) == {"slice2"}
    assert len(d["spread_curve"]["sigma"]) == 3 and res.slice_results[0].name == "slice2"
    assert json.loads(res.to_json())["test"] == json.loads(json.dumps(d["test"]))
