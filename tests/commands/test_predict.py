"""``chshml predict``: the paper's 8-D scheme (local -> quantum, others relabelled) and input
rules.
"""

from __future__ import annotations

import numpy as np
import pytest

from chshml.geometry import (
    RELABELLINGS,
    apply_relabelling,
    fundamental_domain,
    is_local,
    tlm_labels,
)
from chshml.sampling.polytope import uniform_canonical_simplex, uniform_ns
from chshml.store import read_h5, write_h5


@pytest.fixture(scope="module")
def full8_model(tmp_path_factory):
    """An SVM on the canonical simplex; labels from TLM on the correlators (a stand-in truth
    that is relabelling-invariant, enough to test the plumbing).
    """
    from chshml.models.training import train_model

    d = tmp_path_factory.mktemp("m")
    rng = np.random.default_rng(0)
    x = uniform_canonical_simplex(400, 8, rng)
    perm = rng.permutation(400)
    write_h5(d / "full8_unbalanced.h5",
             {"points": x, "label": tlm_labels(x), "idx_train": perm[:280],
              "idx_val": perm[280:340], "idx_test": perm[340:]}, {"space": "full8"})
    model = d / "svm.joblib"
    # folding (our option, off for the paper's models) makes predictions exactly invariant
    train_model("svm", d / "full8_unbalanced.h5", model, {"C": [100], "gamma": ["scale"],
                                                         "fold_symmetry": True})
    return model


def ev_chsh(points):
    return points[:, 4:] @ np.array([1.0, 1.0, 1.0, -1.0])


def test_prediction_is_invariant_under_relabelling(full8_model):
    from chshml.models import load_model

    clf = load_model(full8_model)
    assert clf.meta["fold_symmetry"] is True
    rng = np.random.default_rng(1)
    p = uniform_ns(60, 8, rng)
    p = np.vstack([p, apply_relabelling(uniform_canonical_simplex(40, 8, rng),
                                        rng.integers(0, 128, 40))])
    base = clf.predict(p)
    assert np.all(base[is_local(p)] == 1)
    nonlocal_ = ~is_local(p)
    assert nonlocal_.sum() >= 40
    # the representative lies in the canonical simplex and is shared by the whole orbit
    rep = fundamental_domain(p[nonlocal_])
    np.testing.assert_array_equal(base[nonlocal_], clf.predict_raw(rep))
    assert np.all(ev_chsh(rep) >= 2 - 1e-12)
    for g in range(len(RELABELLINGS)):
        np.testing.assert_array_equal(clf.predict(apply_relabelling(p, g)), base)
        np.testing.assert_array_equal(fundamental_domain(apply_relabelling(p[nonlocal_], g)),
                                      rep)


def test_predict_cli_writes_labels_and_rejects_bad_input(full8_model, tmp_path, capsys):
    from chshml.cli import main
    from chshml.models import load_model

    rng = np.random.default_rng(2)
    pts = np.vstack([uniform_ns(20, 8, rng), uniform_canonical_simplex(20, 8, rng)])
    np.save(tmp_path / "in.npy", pts)
    out = tmp_path / "out.h5"
    assert main(["predict", str(full8_model), str(tmp_path / "in.npy"), "-o", str(out)]) == 0
    data, attrs = read_h5(out)
    np.testing.assert_array_equal(data["label"], load_model(full8_model).predict(pts))
    assert attrs["model_space"] == "full8" and data["label"].dtype == np.int8

    bad = pts.copy()
    bad[3, 0] = 1.5  # outside NS
    np.save(tmp_path / "bad.npy", bad)
    assert main(["predict", str(full8_model), str(tmp_path / "bad.npy"), "-o",
                 str(tmp_path / "x.h5")]) == 2
    assert "row 3" in capsys.readouterr().err
    (tmp_path / "nan.csv").write_text("0,0,0,0,nan,0,0,0\n")
    assert main(["predict", str(full8_model), str(tmp_path / "nan.csv"), "-o",
                 str(tmp_path / "x.h5")]) == 2
    assert main(["predict", str(tmp_path / "missing.joblib"), str(tmp_path / "in.npy"), "-o",
                 str(tmp_path / "x.h5")]) == 2
    assert not (tmp_path / "x.h5").exists()
