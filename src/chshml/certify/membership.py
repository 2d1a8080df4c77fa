"""Membership in Q itself, certified both ways, for many behaviours.

Per point: the NPA gauge at level ``L`` (batched, with the usual fallback) refutes points
outside ``Q_L`` (label 0, with the stored dual witness, exactly as ``chshml label``); every
other point goes to column generation over two-qubit atoms (:mod:`chshml.certify.hull`),
which either returns a decomposition into at most 9 atoms (label 1) or leaves the point
undecided (label -1) with its gap: the distance from ``p`` to the inner hull found, beside the
NPA bracket ``[lam_lo, lam_hi]`` on the level-``L`` gauge.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from chshml.certify.hull import MAX_ATOMS, RECON_TOL, HullSolver
from chshml.certify.oracle import QubitOracle
from chshml.npa.gauge import as_behaviours
from chshml.npa.labelling import DEFAULT_TOL, label_points
from chshml.progress import Progress
from chshml.store import CertifyFile, LabelFile

#: Atoms of recent decompositions offered as warm starts to the next point.
POOL_SIZE = 48


@dataclass
class CertifyResult:
    """Per-point labels in Q, NPA brackets and witnesses, decompositions and gaps."""

    level: str
    tol: float
    label: np.ndarray
    lam: np.ndarray
    lam_lo: np.ndarray
    lam_hi: np.ndarray
    status: np.ndarray
    witness_beta: np.ndarray
    witness_beta0: np.ndarray
    atom_weights: np.ndarray
    atom_state: np.ndarray
    atom_angles: np.ndarray
    n_atoms: np.ndarray
    gap: np.ndarray
    recon_error: np.ndarray
    cpu_seconds: float = 0.0
    cpu_seconds_npa: float = 0.0
    extra: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)

    def datasets(self, points: np.ndarray) -> dict[str, np.ndarray]:
        """The HDF5 datasets of a certify output file."""
        out = {
            LabelFile.POINTS: points, LabelFile.LABEL: self.label.astype(np.int8),
            LabelFile.LAM: self.lam, LabelFile.LAM_LO: self.lam_lo,
            LabelFile.LAM_HI: self.lam_hi, LabelFile.STATUS: self.status,
            LabelFile.WITNESS_BETA: self.witness_beta,
            LabelFile.WITNESS_BETA0: self.witness_beta0,
            CertifyFile.ATOM_WEIGHTS: self.atom_weights, CertifyFile.ATOM_STATE: self.atom_state,
            CertifyFile.ATOM_ANGLES: self.atom_angles,
            CertifyFile.N_ATOMS: self.n_atoms.astype(np.int8),
            CertifyFile.GAP: self.gap, CertifyFile.RECON_ERROR: self.recon_error,
        }
        out.update(self.extra)
        return out


def certify_points(points: np.ndarray, level: str = "4", tol: float = DEFAULT_TOL,
                   progress: bool = False, max_iter: int = 150, seed: int = 0,
                   solver: str = "auto") -> CertifyResult:
    """Certify membership in Q of 4-D or 8-D behaviours (see module docstring)."""
    start = time.process_time()
    P = as_behaviours(points)
    n = len(P)
    npa = label_points(P, level, solver=solver, tol=tol, progress=progress)
    npa_cpu = time.process_time() - start
    weights = np.zeros((n, MAX_ATOMS))
    states = np.zeros((n, MAX_ATOMS, 4))
    angles = np.zeros((n, MAX_ATOMS, 4))
    n_atoms = np.zeros(n, dtype=np.int64)
    gap = np.full(n, np.nan)
    recon = np.full(n, np.nan)
    label = np.where(npa.label == 0, 0, -1).astype(np.int8)
    status = np.array([f"npa:{s}" for s in npa.status], dtype=object)
    solver_ = HullSolver(QubitOracle(seed=seed), max_iter=max_iter)
    pool_s = np.zeros((0, 4))
    pool_a = np.zeros((0, 4))
    todo = np.flatnonzero(npa.label != 0)
    meter = Progress(len(todo), f"certify (decompositions, level {npa.level} filter)",
                     enabled=progress)
    for i in todo:
        res = solver_.decompose(P[i], pool=(pool_s, pool_a))
        dec = res.decomposition
        if dec is not None:
            k = dec.n_atoms
            weights[i, :k], states[i, :k], angles[i, :k] = dec.weights, dec.states, dec.angles
            n_atoms[i], gap[i], recon[i] = k, 0.0, dec.error
            label[i] = 1
            status[i] += f"|Q:decomposed:{k}"
            pool_s = np.vstack([dec.states, pool_s])[:POOL_SIZE]
            pool_a = np.vstack([dec.angles, pool_a])[:POOL_SIZE]
        else:
            gap[i] = res.gap
            status[i] += f"|Q:undecided:{res.reason}"
        meter.update()
    attrs = dict(npa.attrs)
    attrs.update({
        "reference": "Q", "recon_tol": RECON_TOL, "max_atoms": MAX_ATOMS,
        "atom_encoding": "atom_state[i, j] = real unit 4-vector on |00>,|01>,|10>,|11> "
                         "(Alice first); atom_angles[i, j] = (a0, a1, b0, b1), observable "
                         "cos t Z + sin t X (a +-1 observable is t = 0 or pi on |0>); rows "
                         "j >= n_atoms[i] are zero padding",
        "gap_meaning": "label -1: Euclidean distance from the point to the best point of the "
                       "inner hull of the atoms found (an upper bound on its distance to that "
                       "hull); 0 for label 1; NaN for label 0",
        "npa_level": npa.level, "npa_solver": npa.solver,
    })
    return CertifyResult(
        npa.level, npa.tol, label, npa.lam, npa.lam_lo, npa.lam_hi, status.astype(str),
        npa.witness_beta, npa.witness_beta0, weights, states, angles, n_atoms, gap, recon,
        time.process_time() - start, npa_cpu, npa.extra, attrs)
