"""Face model of Q (gauge target ``face``): training and prediction CPU cost against the
batched NPA labeller at level 3 measured in the same run, and agreement with its labels.

Rays through the canonical facet whose Q_1+AB boundary is off the NS facets (``chshml sample
--method directions --curved-at 1+AB``) are labelled at level 3 (the baseline, ms per ray);
the face model is trained on most of them. Predictions are timed on two sets, each also
labelled at level 3 in this run:

* uniform points of the canonical nonlocal simplex (most of them near or outside Q, so most
  need the polish: the expensive case);
* held-back boundary points shifted by ``1 + N(0, 1e-3)`` (the hard cases).

    PYTHONPATH=src python benchmarks/face_cost.py [n_rays]
"""

from __future__ import annotations

import sys

import numpy as np
from _timing import cpu_call

from chshml.evaluation.spread import boundary_from_gauge
from chshml.models.faces import fit_faces
from chshml.models.gauge import EXPECTED_SPREAD_SIGMAS, GaugeClassifier
from chshml.npa import label_points
from chshml.sampling.labelled import spread_set
from chshml.sampling.methods import draw_sample
from chshml.sampling.polytope import uniform_canonical_simplex
from chshml.store import SampleFile


def main(n: int = 3000) -> None:
    rng = np.random.default_rng(0)
    rays = draw_sample("directions", "full8", n, 0, "face_cost", curved_at="1+AB",
                       progress=False).data[SampleFile.POINTS]
    res, label_s = cpu_call(lambda: label_points(rays, "3"))
    label_ms = 1e3 * label_s / len(rays)
    print(f"baseline: label {len(rays)} rays at level 3: {label_ms:.1f} ms CPU per ray")
    is_train = np.arange(len(rays)) < 0.8 * len(rays)
    (model, meta), fit_s = cpu_call(lambda: fit_faces(
        rays, res.lam, res.witness_beta, is_train, 4000, 0.99, EXPECTED_SPREAD_SIGMAS))
    print(f"train: {meta['n_atoms']} atoms in {fit_s:.1f} CPU-s "
          f"({1e3 * meta['timings']['atoms_cpu_seconds_per_ray']:.1f} ms per ray; "
          f"{meta['validation']['n']} validation rays, median relative error "
          f"{meta['validation']['median_rel_err']:.1e})")
    clf = GaugeClassifier(model, {"space": "full8", "dim": 8})
    held = rays[~is_train]
    pb = boundary_from_gauge(held, res.lam[~is_train])
    sets = {"uniform nonlocal simplex": uniform_canonical_simplex(2000, 8, rng),
            "spread sigma 1e-3": spread_set(pb, 1e-3, rng).points}
    for name, points in sets.items():
        truth, truth_s = cpu_call(lambda points=points: label_points(points, "3").label)
        pred, pred_s = cpu_call(lambda points=points: clf.predict(points))
        pred_ms, truth_ms = 1e3 * pred_s / len(points), 1e3 * truth_s / len(points)
        print(f"{name} ({len(points)} points): predict {pred_ms:.2f} ms/pt, level-3 labeller "
              f"{truth_ms:.2f} ms/pt, ratio {truth_ms / pred_ms:.1f}x; labels agree on "
              f"{np.mean(pred == truth):.4f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
