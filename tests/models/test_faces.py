"""Face models (gauge target ``face``, issue 14): NPA level 3's gauges reproduced from below on
held-back rays, exact relabelling invariance, save/load, and refusals in one line.
"""

from __future__ import annotations

import numpy as np
import pytest

from chshml.geometry import ns_violation
from chshml.store import read_h5, write_h5


def _labelled_rays(n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` rays through the canonical facet whose Q_1+AB boundary is off the NS facets
    (``chshml sample --method directions --curved-at 1+AB``; where it is on one, so is Q's),
    at the NS boundary, labelled at level 3.
    """
    from chshml.npa import label_points
    from chshml.sampling.methods import draw_sample
    from chshml.store import SampleFile

    p = draw_sample("directions", "full8", n, seed, "faces", curved_at="1+AB",
                    progress=False).data[SampleFile.POINTS]
    res = label_points(p, "3")
    return {"points": p, "lam": res.lam, "lam_lo": res.lam_lo, "lam_hi": res.lam_hi,
            "witness_beta": res.witness_beta}


@pytest.fixture(scope="module")
def face_model(tmp_path_factory):
    from chshml.models.gauge import train_gauge

    d = tmp_path_factory.mktemp("faces")
    data = _labelled_rays(400, 11)
    data["idx_train"] = np.arange(320)
    data["idx_test"] = np.arange(320, 400)
    write_h5(d / "rays.h5", data, {"dataset": "rays", "level": "3"})
    out = d / "gauge_full8_q.npz"
    meta = train_gauge(d / "rays.h5", out, {"reference": "3", "target": "face"})
    return out, meta


def test_face_model_meets_npa_level_3_from_below_on_held_back_rays(face_model):
    from chshml.models import load_model

    path, meta = face_model
    assert meta["target"] == "face" and meta["n_atoms"] >= 300
    clf = load_model(path)
    fresh = _labelled_rays(40, 12)                        # rays no training set used
    pb = fresh["lam"][:, None] * fresh["points"]
    curved = ns_violation(pb) < -1e-7
    assert curved.sum() >= 30
    lam = clf.predict_gauge(fresh["points"][curved])
    rel = lam / fresh["lam"][curved] - 1.0
    # a lower bound with an explicit atom: never above NPA's certified upper end
    assert np.all(lam <= fresh["lam_hi"][curved] * (1 + 1e-9))
    # and, where Q and Q_3 share the boundary, on it
    assert np.median(np.abs(rel)) < 1e-8
    assert np.mean(np.abs(rel) < 1e-6) >= 0.9
    # the labels of points shifted by 1e-4 off that boundary agree with the labeller's
    shift = np.where(np.arange(curved.sum()) % 2 == 0, 1 - 1e-4, 1 + 1e-4)
    near = pb[curved] * shift[:, None]
    agree = clf.predict(near) == (shift < 1).astype(np.int8)
    assert agree.mean() >= 0.9


def test_face_model_is_invariant_under_all_relabellings(face_model):
    from _helpers import assert_gauge_invariant_under_relabellings

    from chshml.models import load_model

    assert_gauge_invariant_under_relabellings(load_model(face_model[0]), seed=13, n_ns=20,
                                              n_simplex=8)


def test_face_model_saves_plain_arrays_and_loads_the_same(face_model, tmp_path):
    from chshml.cli import main

    path, _ = face_model
    with np.load(path, allow_pickle=False) as z:
        assert {"face_q", "face_params", "band"} <= set(z.files)
    pts = _labelled_rays(12, 14)["points"]
    write_h5(tmp_path / "pts.h5", {"points": pts})
    assert main(["predict", str(path), str(tmp_path / "pts.h5"), "-o",
                 str(tmp_path / "out.h5")]) == 0
    out, _ = read_h5(tmp_path / "out.h5")
    from chshml.models import load_model

    np.testing.assert_array_equal(out["label"], load_model(path).predict(pts))


def test_train_face_refuses_4d_rays_and_rays_without_witnesses(tmp_path, capsys):
    from chshml.cli import main

    write_h5(tmp_path / "r4.h5", {"points": np.full((20, 4), 0.5)}, {"dataset": "r4"})
    assert main(["train", "gauge", str(tmp_path / "r4.h5"), "-o", str(tmp_path / "m.npz"),
                 "--set", "target=face"]) == 2
    assert "target face" in capsys.readouterr().err
    data = _labelled_rays(10, 15)
    del data["witness_beta"]
    write_h5(tmp_path / "r8.h5", data, {"dataset": "r8", "level": "3"})
    assert main(["train", "gauge", str(tmp_path / "r8.h5"), "-o", str(tmp_path / "m.npz"),
                 "--set", "target=face"]) == 2
    assert "witness_beta" in capsys.readouterr().err
    assert not (tmp_path / "m.npz").exists()


def test_certified_prediction_of_a_face_model_agrees_with_the_labeller(face_model, tmp_path):
    """``chshml predict --certify`` routes points near the face model's boundary to NPA level 3
    (the model's reference) and keeps the model's label elsewhere.
    """
    from chshml.cli import main
    from chshml.npa import label_points

    fresh = _labelled_rays(12, 16)
    pb = fresh["lam"][:, None] * fresh["points"]
    pb = pb[ns_violation(pb) < -1e-7]
    shift = np.where(np.arange(len(pb)) % 2 == 0, 1 - 5e-5, 1 + 5e-5)
    pts = np.vstack([pb * shift[:, None], 0.5 * pb])        # near the boundary, and far inside
    write_h5(tmp_path / "pts.h5", {"points": pts})
    # the band is ~1e-10: a large factor routes the points within ~1e-4 of the boundary
    assert main(["predict", str(face_model[0]), str(tmp_path / "pts.h5"), "-o",
                 str(tmp_path / "out.h5"), "--certify", "--band-factor", "1e6"]) == 0
    out, _ = read_h5(tmp_path / "out.h5")
    routed = out["routed"].astype(bool)
    np.testing.assert_array_equal(routed, np.arange(len(pts)) < len(pb))
    np.testing.assert_array_equal(out["label"][routed], label_points(pts[routed], "3").label)
    np.testing.assert_array_equal(out["label"][~routed], out["label_model"][~routed])
