"""Face models (gauge target ``face``): Q's gauge on rays from the qubit atoms of Q's faces.

Physics: beyond the canonical CHSH facet, Q's boundary is made of faces spanned by one
two-qubit atom and two or three facet vertices (:mod:`chshml.certify.faces`; measured in
``benchmarks/q_boundary_faces.py``). Training reads the face atom of each curved training ray
off the ray's NPA witness with the qubit oracle: at level 3, Q itself reaches those supporting
hyperplanes. A ray is predicted from the atoms of its nearest training rays (facet points, with
their 16 images under the facet's symmetries): the best atom's cone gauge, then, unless the
point is clearly inside Q, that atom's state and angles polished to the largest gauge. On a
curved ray the prediction is a lower bound on Q's gauge with an explicit realisation behind it;
rays leaving NS first get ``lam_NS`` exactly. A point is called quantum iff its gauge is >= 1.

The model is Q itself (no NPA relaxation): trained on level-3 witnesses, it reproduces the
level-3 gauges where Q_3 and Q share their boundary. Saved as ``.npz`` (plain arrays).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from chshml.certify.faces import atom_point, cone_gauge, facet_points, polish_atom, witness_atom
from chshml.geometry import FULL_DIM, RELABELLINGS, SIMPLEX_STABILISER, ns_violation
from chshml.models.gauge_features import facet_point_gauge, ray_chart

#: Training rays whose atoms are tried on each point (nearest facet points, any image).
NEIGHBOURS = 8
#: Points whose unpolished gauge is at least this are quantum by an explicit atom already;
#: below it the atom is polished (about 3 ms CPU per point).
POLISH_BELOW = 1.1
#: Boundary points closer than this (relative) to an NS facet count as on it: no face atom.
NS_CONTACT_TOL = 1e-7
#: Validation rays (at most) on which the error band is calibrated.
VALIDATION_MAX = 1000


class FaceModel:
    """Atoms (states and angles) of training rays' faces, keyed by the rays' facet points."""

    def __init__(self, q: np.ndarray, params: np.ndarray, band: float = 0.0) -> None:
        from scipy.spatial import cKDTree

        self.dim = FULL_DIM
        self.q = np.asarray(q, dtype=float)
        self.params = np.asarray(params, dtype=float)
        self.band = float(band)
        self.atoms = atom_point(self.params)
        images = np.einsum("sij,nj->sni", SIMPLEX_STABILISER, self.q).reshape(-1, FULL_DIM)
        self._tree = cKDTree(images)

    def facet_gauge(self, r: np.ndarray, polish_below: np.ndarray | float = np.inf
                    ) -> np.ndarray:
        """``lam(r)`` of canonical facet points: the best neighbouring atom's cone gauge,
        polished where it is below ``polish_below`` (per point or one number).
        """
        r = np.asarray(r, dtype=float)
        if len(r) == 0:
            return np.zeros(0)
        n_atoms = len(self.q)
        _, idx = self._tree.query(r, k=min(NEIGHBOURS, 16 * n_atoms))
        idx = np.asarray(idx).reshape(len(r), -1)
        image, atom = np.divmod(idx, n_atoms)
        # each point seen in its neighbour's own frame: S^T r (S orthogonal, facet-preserving)
        local = np.einsum("nkji,nj->nki", SIMPLEX_STABILISER[image], r)
        t = cone_gauge(local, self.atoms[atom])
        best = np.argmax(t, axis=1)
        rows = np.arange(len(r))
        lam = t[rows, best]
        below = np.broadcast_to(np.asarray(polish_below, dtype=float), lam.shape)
        for i in np.flatnonzero(lam < below):
            lam[i] = polish_atom(local[i, best[i]], self.params[atom[i, best[i]]])[0]
        return lam

    def gauge(self, points: np.ndarray) -> np.ndarray:
        """Predicted ``lam(p)`` of 8-D behaviours (``inf`` at the origin)."""
        chart = ray_chart(points, FULL_DIM)
        lam = chart.lam_ns.copy()
        if chart.curved.any():
            lam[chart.curved] = self.facet_gauge(chart.q, POLISH_BELOW * chart.scale) / chart.scale
        return lam

    def save(self, path: str | Path, meta: dict, inputs: tuple = ()) -> None:
        """Arrays to ``.npz`` and ``MODEL.json`` beside it, as one unit."""
        from chshml.models.metadata import save_npz_with_meta

        arrays = {"dim": np.array(self.dim), "target": np.array("face"),
                  "face_q": self.q, "face_params": self.params, "band": np.array(self.band)}
        save_npz_with_meta(path, meta, arrays, inputs)

    @classmethod
    def load(cls, path: str | Path) -> FaceModel:
        """A model saved by :meth:`save` (no pickled objects are read)."""
        with np.load(path, allow_pickle=False) as z:
            return cls(z["face_q"], z["face_params"], float(z["band"]))


def is_face_file(path: str | Path) -> bool:
    """True if a gauge ``.npz`` holds a face model."""
    with np.load(path, allow_pickle=False) as z:
        return "face_q" in z.files


def fit_faces(points: np.ndarray, lam: np.ndarray, beta: np.ndarray, is_train: np.ndarray,
              max_train: int, band_quantile: float, sigmas: tuple[float, ...], seed: int = 0,
              progress: bool = False) -> tuple[FaceModel, dict]:
    """Face atoms of at most ``max_train`` curved training rays; error band on the others.

    ``points``/``lam``: rays and their (certified) NPA gauges; ``beta``: each ray's witness
    at its boundary point; ``is_train``: the training rows. Rays whose boundary point lies on
    an NS facet, or without a finite gauge and witness, are not used. The metadata gives the
    spread accuracy expected at each of ``sigmas`` from the validation errors.
    """
    from chshml.certify.oracle import QubitOracle
    from chshml.evaluation.spread import expected_spread_accuracy
    from chshml.progress import Progress

    t0 = time.process_time()
    points, lam = np.asarray(points, dtype=float), np.asarray(lam, dtype=float)
    beta = np.asarray(beta, dtype=float)
    usable = np.isfinite(lam) & (lam > 0) & np.isfinite(beta).all(axis=1)
    pb = np.where(usable, lam, 0.0)[:, None] * points
    chart = ray_chart(points, FULL_DIM)
    curved = usable & chart.curved & (ns_violation(pb) < -NS_CONTACT_TOL)
    train = np.flatnonzero(curved & is_train)
    if len(train) > max_train:
        train = np.sort(np.random.default_rng(seed).choice(train, max_train, replace=False))
    q, _, element = facet_points(pb[train])
    beta_c = np.einsum("nij,nj->ni", RELABELLINGS[element], beta[train])
    oracle = QubitOracle(seed=seed)
    meter = Progress(len(train), "face atoms", enabled=progress)
    found = []
    for b in beta_c:
        found.append(witness_atom(oracle, b))
        meter.update()
    ok = np.array([f is not None for f in found], dtype=bool)
    if ok.sum() < 1:
        raise ValueError("no face atom found: the rays need witnesses of curved boundary "
                         "points (an 8-D dataset labelled with --method directions)")
    atom_cpu = time.process_time() - t0
    model = FaceModel(q[ok], np.array([f for f in found if f is not None]))
    val = np.flatnonzero(curved & ~is_train)
    if len(val) > VALIDATION_MAX:
        val = np.sort(np.random.default_rng(seed + 1).choice(val, VALIDATION_MAX, replace=False))
    t1 = time.process_time()
    pos = np.searchsorted(np.flatnonzero(chart.curved), val)   # rows among the curved rays
    rq, lam_q = chart.q[pos], facet_point_gauge(chart, lam)[pos]
    err = np.abs(model.facet_gauge(rq, np.inf) / lam_q - 1.0) if len(val) else np.zeros(0)
    model.band = float(np.quantile(err, band_quantile)) if len(err) else float("nan")
    val_cpu = time.process_time() - t1
    meta = {
        "kind": "gauge", "target": "face",
        "n_atoms": int(ok.sum()), "n_rays_without_atom": int((~ok).sum()),
        "rays": {"points": int(len(points)), "curved_off_ns": int(curved.sum()),
                 "train": int(len(train))},
        "validation": {
            "n": int(len(err)), "band": model.band, "band_quantile": band_quantile,
            "median_rel_err": float(np.median(err)) if len(err) else None,
            "mean_rel_err": float(np.mean(err)) if len(err) else None,
            "max_rel_err": float(np.max(err)) if len(err) else None,
            "curved_expected_spread_accuracy": {
                f"{sigma:g}": expected_spread_accuracy(err, sigma) for sigma in sigmas}},
        "timings": {"atoms_cpu_seconds": atom_cpu,
                    "atoms_cpu_seconds_per_ray": atom_cpu / max(len(train), 1),
                    "validation_cpu_seconds": val_cpu,
                    "validation_cpu_seconds_per_ray": val_cpu / max(len(val), 1)},
    }
    return model, meta
