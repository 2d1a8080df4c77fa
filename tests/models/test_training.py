"""Models on tiny exact-label 4-D data: train, save, load, predict; losses and metrics."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from tlm_data import tlm_dataset

from chshml.models.losses import focal_loss_np
from chshml.store import write_h5


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "corr4_unbalanced.h5"
    data = tlm_dataset(400, np.random.default_rng(3), "uniform")
    write_h5(path, data, {"space": "corr4", "dataset": "corr4_unbalanced"})
    return path, data


def test_importing_the_package_and_cli_does_not_import_tensorflow():
    code = ("import sys, chshml.models, chshml.evaluation, chshml.metrics, chshml.cli, "
            "chshml.models.svm, chshml.models.losses, chshml.report.tables;"
            "sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_svm_trains_saves_loads_and_predicts_identically(tiny_data, tmp_path):
    from chshml.models import load_model
    from chshml.models.training import model_domain, train_model
    from chshml.store import load_dataset

    path, data = tiny_data
    out = tmp_path / "svm.joblib"
    meta = train_model("svm", path, out, {"C": [1, 100], "gamma": ["scale", 1.0]})
    saved = json.loads(out.with_suffix(".json").read_text())
    assert saved["dataset"] == "corr4_unbalanced" and saved["space"] == "corr4"
    assert {"C", "gamma"} <= set(saved["chosen"]) and "scikit-learn" in saved["package_versions"]
    assert saved["chosen"] == json.loads(json.dumps(meta["chosen"]))
    clf = load_model(out)
    x = data["points"]
    # the saved model is the grid's winner refitted on train: refit it here and compare
    from sklearn.svm import SVC

    ds = load_dataset(path)
    xtr, ytr = model_domain(*ds.part("train"))
    ref = SVC(kernel="rbf", C=saved["chosen"]["C"], gamma=saved["chosen"]["gamma"]).fit(xtr, ytr)
    np.testing.assert_array_equal(clf.predict(x), ref.predict(x))
    assert np.mean(clf.predict(x) == data["label"]) > 0.9


def test_svm_grid_skips_a_gamma_that_cannot_win():
    from chshml.models.svm import SVMConfig, train_svm

    d = tlm_dataset(400, np.random.default_rng(4), "uniform")
    x, y = d["points"], d["label"]
    tr, va = d["idx_train"], d["idx_val"]
    cfg = SVMConfig.from_dict({"C": [1, 10, 100, 1000], "gamma": [1e5, "scale"]})
    _, meta = train_svm(x[tr], y[tr], x[va], y[va], cfg)
    fitted = [g for g in meta["grid"] if "val_score" in g]
    assert sum(g["gamma"] == 1e5 for g in fitted) == 2  # pruned after 2 trivial fits
    assert sum(g["gamma"] == "scale" for g in fitted) == 4
    assert meta["chosen"]["gamma"] == "scale"


@pytest.mark.slow
def test_focal_loss_matches_hand_computation():
    pytest.importorskip("keras")
    from chshml.models.losses import make_loss

    y = np.array([1, 0, 1, 0])
    p1 = np.array([0.9, 0.2, 0.3, 0.6])  # predicted probability of "quantum"
    # FL = -alpha_t (1 - p_t)^2 log p_t, scalar alpha = 0.01 (the paper's value, as Keras)
    hand = -0.01 * np.array([0.1 ** 2 * np.log(0.9), 0.2 ** 2 * np.log(0.8),
                             0.7 ** 2 * np.log(0.3), 0.6 ** 2 * np.log(0.4)])
    np.testing.assert_allclose(focal_loss_np(y, p1, 0.01, 2.0, "scalar"), hand, rtol=1e-6)
    # per-class reading: 0.01 on quantum (label 1), 0.99 on not quantum
    hand_class = hand * np.array([1.0, 99.0, 1.0, 99.0])
    np.testing.assert_allclose(focal_loss_np(y, p1, 0.01, 2.0, "class"), hand_class, rtol=1e-6)
    onehot = np.eye(2)[y].astype("float32")
    probs = np.column_stack([1 - p1, p1]).astype("float32")
    for mode, expected in (("scalar", hand), ("class", hand_class)):
        loss = make_loss("focal", alpha=0.01, gamma=2.0, alpha_mode=mode)
        got = np.asarray(loss(onehot, probs))
        np.testing.assert_allclose(got, expected, rtol=1e-5)
    bce = np.asarray(make_loss("bce")(onehot, probs))
    np.testing.assert_allclose(bce, -np.log([0.9, 0.8, 0.3, 0.4]), rtol=1e-5)
    # balanced BCE: weights n / (2 n_c) from training labels with 3 quantum, 1 not
    bal = np.asarray(make_loss("balanced_bce", y_train=np.array([1, 1, 1, 0]))(onehot, probs))
    w = np.array([4 / 6, 2.0, 4 / 6, 2.0])
    np.testing.assert_allclose(bal, w * -np.log([0.9, 0.8, 0.3, 0.4]), rtol=1e-5)


@pytest.mark.slow
def test_keras_balanced_accuracy_matches_scikit_learn():
    pytest.importorskip("keras")
    from sklearn.metrics import balanced_accuracy_score

    from chshml.metrics import balanced_accuracy
    from chshml.models.nn import BalancedAccuracy

    rng = np.random.default_rng(0)
    y = (rng.random(257) < 0.85).astype(int)
    yhat = np.where(rng.random(257) < 0.8, y, 1 - y)
    expected = balanced_accuracy_score(y, yhat)
    metric = BalancedAccuracy()
    for i in range(0, 257, 100):  # accumulate over batches like fit() does
        metric.update_state(np.eye(2)[y[i:i + 100]], np.eye(2)[yhat[i:i + 100]] * 0.8 + 0.1)
    assert float(metric.result()) == pytest.approx(expected, abs=1e-6)
    assert balanced_accuracy(y, yhat) == pytest.approx(expected, abs=1e-12)


@pytest.mark.slow
def test_nn_trains_saves_loads_predicts_identically_with_nonneg(tiny_data, tmp_path):
    pytest.importorskip("keras")
    from chshml.models import load_model
    from chshml.models.nn import quantum_probability
    from chshml.models.training import train_model

    path, data = tiny_data
    out = tmp_path / "nn.keras"
    cfg = {"restarts": 2, "epochs": 4, "batch_size": 64, "nonneg": True, "patience": 2}
    meta = train_model("nn", path, out, cfg)
    assert len(meta["restarts"]) == 2
    assert meta["chosen"]["val_balanced_acc"] == max(r["val_balanced_acc"]
                                                     for r in meta["restarts"])
    clf = load_model(out)
    model = clf.model
    for name in ("dense_1", "dense_2"):  # hidden-to-hidden kernels
        assert np.all(model.get_layer(name).kernel.numpy() >= 0)
    assert np.any(model.get_layer("dense_0").kernel.numpy() < 0)  # first layer is free
    x = data["points"]
    import keras

    fresh = keras.models.load_model(out, compile=False)
    np.testing.assert_array_equal(clf.predict(x), load_model(out).predict(x))
    np.testing.assert_allclose(quantum_probability(fresh, x), quantum_probability(model, x),
                               rtol=0, atol=1e-7)
    assert json.loads(out.with_suffix(".json").read_text())["kind"] == "nn"


@pytest.mark.slow
def test_nn_restarts_are_reproducible(tiny_data):
    pytest.importorskip("keras")
    from chshml.models.nn import NNConfig, quantum_probability, train_nn
    from chshml.models.training import model_domain
    from chshml.store import load_dataset

    ds = load_dataset(tiny_data[0])
    xtr, ytr = model_domain(*ds.part("train"))
    xva, yva = model_domain(*ds.part("val"))
    cfg = NNConfig(restarts=1, epochs=3, batch_size=64, seed=7)
    m1, _ = train_nn(xtr, ytr, xva, yva, cfg)
    m2, _ = train_nn(xtr, ytr, xva, yva, cfg)
    np.testing.assert_allclose(quantum_probability(m1, xva), quantum_probability(m2, xva),
                               atol=1e-6)


@pytest.mark.slow
def test_unknown_config_keys_are_refused_by_name():
    from chshml.models.nn import NNConfig
    from chshml.models.svm import SVMConfig

    with pytest.raises(ValueError, match=r"unknown svm config keys: \['gama'\]"):
        SVMConfig.from_dict({"gama": [1.0]})
    with pytest.raises(ValueError, match=r"unknown nn config keys: \['epoch'\]"):
        NNConfig.from_dict({"epoch": 3})
    assert SVMConfig.from_dict({"C": [10, 1]}).C == [1.0, 10.0]
    assert NNConfig.from_dict(None).epochs == NNConfig().epochs
