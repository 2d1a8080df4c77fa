"""Q's boundary beyond the canonical CHSH facet: faces of qubit atoms, measured (issue 14).

On a default run's level-3 data, for the report's hidden Q_3 boundary points ``p_b``:

1. **Tightness.** Where a level-3 witness ``beta . p <= beta0`` is stored (points outside
   Q_3), the two-qubit oracle's ``max_{p in Q} beta . p`` is compared with ``beta . p_b``:
   equal means Q itself reaches Q_3's supporting hyperplane there.
2. **Normal sensitivity.** ``h_Q(n) / (n . p_b)`` bounds the gauge from above for every
   normal ``n``; with ``n = beta + noise of relative size eps`` its error grows like ``eps``
   (not ``eps^2``) when the hyperplane touches Q along a face rather than at a point.
3. **Faces.** ``(1 - 1e-7) p_b`` is decomposed into atoms (:mod:`chshml.certify.hull`); the
   atoms cluster around the extreme points of the face through ``p_b``, counted here, with
   how many of them are deterministic (local) points.
4. **Face model.** If the face is one qubit atom ``a`` and vertices of the canonical facet,
   the ray's facet point ``q`` has gauge ``t*(q, a)`` in closed form
   (:func:`chshml.certify.faces.cone_gauge`) and
   ``lam(q) = max_a t*(q, a)`` over atoms, every value a certified lower bound. Atoms of
   training rays (``gauge8_dirs_l3``, the oracle on their witnesses) are tried on each hidden
   point's nearest neighbours (k-d tree on ``q``, 16 images under the facet's symmetries),
   without and with an SLSQP polish of the atom's state and angles from the 3 best.

    PYTHONPATH=src python benchmarks/q_boundary_faces.py [DATA_DIR] [--n 120] [--train 4000]

``DATA_DIR`` is a default run's ``results/data``. Takes about 1 CPU-minute at the defaults
(2 with ``--n 2000``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial import cKDTree

from chshml.certify.atoms import behaviours
from chshml.certify.faces import (
    atom_point,
    cone_gauge,
    facet_points,
    polish_atom,
    witness_atom,
)
from chshml.certify.hull import HullSolver
from chshml.certify.oracle import QubitOracle
from chshml.evaluation.spread import expected_spread_accuracy, ns_violation
from chshml.geometry import RELABELLINGS, SIMPLEX_STABILISER, is_local
from chshml.report.hard_cases import hidden_boundaries
from chshml.store import read_h5

QUANTILES = (0.0, 0.1, 0.5, 0.9, 1.0)


def summary(rel_err: np.ndarray) -> str:
    """Quantiles of relative errors and the spread accuracy they give at sigma = 1e-3."""
    qs = " ".join(f"{v:+.1e}" for v in np.quantile(rel_err, QUANTILES))
    acc = expected_spread_accuracy(rel_err, 1e-3)
    return f"quantiles (0/10/50/90/100 %) {qs}; expected acc. {acc:.4f}"


def witnessed_boundary(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Hidden Q_3 boundary points (``volume8_l3``) that carry a witness, with it."""
    d, _ = read_h5(data_dir / "volume8_l3.h5")
    beta = np.asarray(d["witness_beta"], dtype=float)
    pb = np.asarray(d["lam"], dtype=float)[:, None] * np.asarray(d["points"], dtype=float)
    keep = np.isfinite(beta).all(axis=1) & (ns_violation(pb) < -1e-9) & ~is_local(pb)
    return pb[keep], beta[keep]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", nargs="?", default="results/data", type=Path)
    ap.add_argument("--n", type=int, default=120, help="hidden points per measurement")
    ap.add_argument("--train", type=int, default=4000, help="training rays for the atoms")
    args = ap.parse_args()
    oracle = QubitOracle(seed=0)

    pb, beta = witnessed_boundary(args.data_dir)
    pb, beta = pb[:args.n], beta[:args.n]
    h = np.array([oracle.maximise(b, keep=1).values[0] for b in beta])
    print(f"1. tightness on {len(pb)} witnessed Q_3 boundary points: h_Q(beta) / beta.p_b - 1:",
          summary(h / np.einsum("ij,ij->i", beta, pb) - 1.0).split(";")[0])

    rng = np.random.default_rng(1)
    unit = beta / np.linalg.norm(beta, axis=1, keepdims=True)
    for eps in (1e-3, 1e-2):
        n = unit + eps * rng.standard_normal(unit.shape) / np.sqrt(8)
        hn = np.array([oracle.maximise(b, keep=1).values[0] for b in n])
        err = hn / np.einsum("ij,ij->i", n, pb) - 1.0
        print(f"2. normal noise {eps:.0e}: median gauge error {np.median(err):.1e}")

    solver = HullSolver(oracle, max_iter=150)
    kinds: list[tuple[int, int]] = []
    for p in pb[:min(20, len(pb))]:
        dec = solver.decompose(p * (1 - 1e-7)).decomposition
        if dec is None:
            continue
        atoms = behaviours(dec.states, dec.angles)[dec.weights > 1e-4]
        label = fcluster(linkage(atoms, "single"), 0.1, "distance")
        extreme = np.array([atoms[label == k].mean(axis=0) for k in np.unique(label)])
        deterministic = np.all(np.abs(np.abs(extreme) - 1.0) < 1e-2, axis=1)
        kinds.append((len(extreme), int(deterministic.sum())))
    shapes, counts = np.unique(np.array(kinds), axis=0, return_counts=True)
    print("3. faces (extreme points, of which deterministic): "
          + ", ".join(f"({a}, {b}) x{c}" for (a, b), c in zip(shapes, counts, strict=True)))

    d, _ = read_h5(args.data_dir / "gauge8_dirs_l3.h5")
    rows = np.sort(np.asarray(d["idx_train"]))[:args.train]
    lam = np.asarray(d["lam"], dtype=float)[rows]
    q_train, _, element = facet_points(lam[:, None] * np.asarray(d["points"], dtype=float)[rows])
    beta_train = np.einsum("nij,nj->ni", RELABELLINGS[element],
                           np.asarray(d["witness_beta"], dtype=float)[rows])
    start = time.process_time()
    found = [witness_atom(oracle, b) for b in beta_train]
    per_ray = (time.process_time() - start) / len(rows)
    ok = [i for i, f in enumerate(found) if f is not None]
    params = np.array([found[i] for i in ok])
    atoms = atom_point(params)
    tree = cKDTree(q_train[ok])
    print(f"4. atoms of {len(ok)} training rays: {per_ray * 1e3:.1f} ms CPU per ray")

    hidden = hidden_boundaries(args.data_dir)[("full8", "Q_3")][:args.n]
    q, lam_q, _ = facet_points(hidden)
    images = np.einsum("sij,nj->nsi", SIMPLEX_STABILISER, q)            # (n, 16, 8)
    k = 8
    _, nbr = tree.query(images.reshape(-1, 8), k=k)
    cand = cone_gauge(np.repeat(images.reshape(-1, 8), k, axis=0),
                      atoms[nbr.ravel()]).reshape(len(q), -1)
    print("   nearest atoms, no polish: ", summary(cand.max(axis=1) / lam_q - 1.0))
    start = time.process_time()
    best = np.ones(len(q))
    for i, order in enumerate(np.argsort(-cand, axis=1)[:, :3]):
        for flat in order:
            s, j = divmod(int(flat), k)
            image = images[i, s]
            best[i] = max(best[i], polish_atom(image, params[nbr[i * 16 + s, j]])[0])
    per_point = (time.process_time() - start) / len(q)
    print("   3 best, SLSQP polish:     ", summary(best / lam_q - 1.0),
          f"; {per_point * 1e3:.0f} ms CPU per point")


if __name__ == "__main__":
    main()
