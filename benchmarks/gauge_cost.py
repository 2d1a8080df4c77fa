"""Gauge models: training and prediction CPU cost (4-D, exact TLM gauges), and certified
prediction throughput against the certified labeller. Prints CPU seconds and ratios.

    PYTHONPATH=src python benchmarks/gauge_cost.py [n_rays]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from chshml.evaluation.spread import boundary_4d
from chshml.models import load_model
from chshml.models.certified import certified_labels, certified_predict
from chshml.models.gauge import train_gauge
from chshml.sampling.labelled import spread_set
from chshml.sampling.polytope import to_ns_boundary, uniform_directions
from chshml.store import write_h5


def main(n: int = 12_000) -> None:
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "rays.h5"
        write_h5(data, {"points": to_ns_boundary(uniform_directions(n, 4, rng))},
                 {"dataset": "rays4"})
        t = time.process_time()
        meta = train_gauge(data, Path(tmp) / "g.npz", {"reference": "tlm"})
        print(f"train: {n} rays -> {meta['n_train_used']} centres, "
              f"{time.process_time() - t:.2f} CPU-s")
        clf = load_model(Path(tmp) / "g.npz")
        for name, pts in (("uniform cube", rng.uniform(-1, 1, (20_000, 4))),
                          ("spread 1e-3", spread_set(boundary_4d(20_000, rng), 1e-3,
                                                     rng).points)):
            t = time.process_time()
            clf.predict(pts)
            model_s = time.process_time() - t
            t = time.process_time()
            res = certified_predict(clf, pts, certify=True)
            cert_s = time.process_time() - t
            t = time.process_time()
            certified_labels(pts, "tlm")
            label_s = time.process_time() - t
            print(f"{name}: predict {1e6 * model_s / len(pts):.1f} us/pt; --certify routes "
                  f"{res.routed.mean():.3%}, {1e6 * cert_s / len(pts):.1f} us/pt; "
                  f"certified TLM labeller {1e6 * label_s / len(pts):.1f} us/pt")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 12_000)
