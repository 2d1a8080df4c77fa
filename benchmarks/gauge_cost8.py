"""8-D gauge models of Q_1+AB: training and prediction CPU cost of the contact fit and of its
amplitude level-set refinement, against the batched NPA labeller measured in the same run,
and the spread accuracy each reaches on boundary points of held-back rays (the model, not
the reference, differs between the two rows; the labeller at level 3 is the reference that
the level-3 models replace).

    PYTHONPATH=src python benchmarks/gauge_cost8.py [n_rays]
"""

from __future__ import annotations

import sys

import numpy as np
from _timing import cpu_call

from chshml.evaluation.spread import boundary_from_gauge
from chshml.geometry import is_local
from chshml.metrics import accuracy
from chshml.models.gauge import GaugeClassifier, GaugeConfig, fit_gauge, gauge_training_data
from chshml.npa import label_points
from chshml.sampling.labelled import spread_set
from chshml.sampling.polytope import (
    canonical_facet_directions,
    to_ns_boundary,
    uniform_canonical_simplex,
)


def main(n: int = 40_000) -> None:
    rng = np.random.default_rng(0)
    rays = to_ns_boundary(canonical_facet_directions(n, 8, rng)[0])
    res, label_s = cpu_call(lambda: label_points(rays, "1+AB"))
    print(f"label {n} rays at 1+AB: {label_s:.1f} CPU-s ({1e3 * label_s / n:.2f} ms/ray)")
    data = gauge_training_data(rays, res.lam, 8, rng.random(n) < 0.85, rng)
    held = uniform_canonical_simplex(4000, 8, rng)  # rays no model saw: their boundary points
    held_lam = label_points(held, "1+AB").lam
    pb = boundary_from_gauge(held, held_lam)
    pb = pb[~is_local(pb)]
    spread = spread_set(pb, 1e-3, rng)
    uniform = uniform_canonical_simplex(20_000, 8, rng)
    _, lab_s = cpu_call(lambda: label_points(uniform, "1+AB"))
    lab_us = 1e6 * lab_s / len(uniform)
    _, lab3_s = cpu_call(lambda: label_points(uniform[:1000], "3"))
    print(f"batched labeller on uniform simplex points: {lab_us:.0f} us/pt at 1+AB, "
          f"{1e3 * lab3_s:.0f} us/pt at level 3")
    for target in ("contact", "amplitude"):
        cfg = GaugeConfig.from_dict({"target": target, "ell": [1.0], "alpha": [1e-8],
                                     "max_train": 8000, "level_ell": [1.0],
                                     "level_alpha": [1e-8, 1e-7]})
        (model, meta), fit_s = cpu_call(lambda cfg=cfg: fit_gauge(data, cfg))
        clf = GaugeClassifier(model, {**meta, "space": "full8", "dim": 8})
        _, pred_s = cpu_call(lambda clf=clf: clf.predict(uniform))
        pred_us = 1e6 * pred_s / len(uniform)
        acc = accuracy(spread.label, clf.predict(spread.points))
        print(f"{target}: train {fit_s:.1f} CPU-s; predict {pred_us:.0f} us/pt "
              f"({lab_us / pred_us:.1f}x / {1e3 * lab3_s / pred_us:.1f}x faster than labelling "
              f"at 1+AB / level 3); validation curved mean "
              f"rel err {meta['validation']['curved_mean_rel_err']:.2e}; spread accuracy at "
              f"sigma 1e-3 on {len(pb)} held-back boundary points {acc:.4f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40_000)
