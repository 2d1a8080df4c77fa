"""Membership in Q itself, certified both ways, for many behaviours.

Per point: the NPA gauge at level ``L`` (batched, with the usual fallback) refutes points
outside ``Q_L`` (label 0, with the stored dual witness, exactly as ``chshml label``); every
other point goes to column generation over two-qubit atoms (:mod:`chshml.certify.hull`),
which either returns a decomposition into at most 9 atoms (label 1) or leaves the point
undecided (label -1) with its gap: the distance from ``p`` to the inner hull found, beside the
NPA bracket ``[lam_lo, lam_hi]`` on the level-``L`` gauge.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chshml.certify.hull import MAX_ATOMS, RECON_TOL, HullSolver
from chshml.certify.oracle import QubitOracle
from chshml.errors import InputError
from chshml.npa.gauge import as_behaviours
from chshml.npa.labelling import DEFAULT_TOL, label_points
from chshml.progress import Progress, prepare, progress_dir
from chshml.store import CertifyFile, LabelFile, attr_to_json

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

    @classmethod
    def concatenate(cls, parts: list[CertifyResult]) -> CertifyResult:
        """The results of consecutive blocks as one (attributes from the first block)."""
        first = parts[0]
        if len(parts) == 1:
            return first

        def cat(name: str) -> np.ndarray:
            return np.concatenate([getattr(r, name) for r in parts])

        return cls(first.level, first.tol, *(cat(f) for f in _ARRAYS),
                   sum(r.cpu_seconds for r in parts), sum(r.cpu_seconds_npa for r in parts),
                   {k: np.concatenate([r.extra[k] for r in parts]) for k in first.extra},
                   first.attrs)

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


#: Points per block of :func:`certify_points` (one checkpoint each; two batched chunks).
BLOCK = 256
#: Per-point arrays of a :class:`CertifyResult`, in field order.
_ARRAYS = ("label", "lam", "lam_lo", "lam_hi", "status", "witness_beta", "witness_beta0",
           "atom_weights", "atom_state", "atom_angles", "n_atoms", "gap", "recon_error")


class BlockStore:
    """Finished blocks of a certify run in a checkpoint folder (``block_B.npz``).

    The folder's ``meta.json`` holds a fingerprint of the points and options
    (:func:`chshml.progress.prepare`): a folder left by another input or other options is
    emptied first. Each block file is written atomically (temp file and rename), so a kill
    loses at most the block being computed.
    """

    def __init__(self, folder: str | os.PathLike, points: np.ndarray, options: dict) -> None:
        self.folder = Path(folder)
        digest = hashlib.sha256(np.ascontiguousarray(points, dtype=float).tobytes())
        digest.update(json.dumps(options, sort_keys=True).encode())
        prepare(self.folder, digest.hexdigest(), "certify")

    def _path(self, b: int) -> Path:
        return self.folder / f"block_{b}.npz"

    def load(self, b: int) -> CertifyResult | None:
        """Block ``b`` if it was finished before (an unreadable file counts as not)."""
        try:
            with np.load(self._path(b), allow_pickle=False) as z:
                attrs = json.loads(str(z["attrs"]))
                extra = {k[6:]: z[k] for k in z.files if k.startswith("extra:")}
                return CertifyResult(str(z["level"]), float(z["tol"]),
                                     *(z[f] for f in _ARRAYS), float(z["cpu_seconds"]),
                                     float(z["cpu_seconds_npa"]), extra, attrs)
        except (OSError, KeyError, ValueError):
            return None

    def save(self, b: int, res: CertifyResult) -> None:
        """Write block ``b`` atomically."""
        arrays = {f: getattr(res, f) for f in _ARRAYS}
        arrays["status"] = np.asarray(res.status, dtype=str)
        arrays.update({f"extra:{k}": v for k, v in res.extra.items()})
        tmp = self._path(b).with_suffix(".tmp.npz")
        np.savez(tmp, level=res.level, tol=res.tol, cpu_seconds=res.cpu_seconds,
                 cpu_seconds_npa=res.cpu_seconds_npa,
                 attrs=json.dumps(res.attrs, default=attr_to_json), **arrays)
        os.replace(tmp, self._path(b))


def certify_points(points: np.ndarray, level: str = "4", tol: float = DEFAULT_TOL,
                   progress: bool = False, max_iter: int = 150, seed: int = 0,
                   solver: str = "auto", checkpoint: str | os.PathLike | None = None,
                   block: int = BLOCK) -> CertifyResult:
    """Certify membership in Q of 4-D or 8-D behaviours (see module docstring).

    Points are certified in blocks of ``block`` rows; each block starts a fresh oracle
    (block 0 with ``seed``, block ``b`` with a seed drawn from ``SeedSequence([seed, b])``)
    and a fresh warm-start pool, so a block's result depends only on its own points. With
    ``checkpoint`` (a folder, e.g. ``OUT.h5.progress``) every finished block is saved there
    and a rerun with the same points and options loads it instead of recomputing: a run
    killed at its wall-time limit resumes where it stopped.
    """
    P = as_behaviours(points)
    options = {"level": str(level), "tol": float(tol), "max_iter": int(max_iter),
               "seed": int(seed), "solver": solver, "block": int(block)}
    store = BlockStore(checkpoint, P, options) if checkpoint is not None else None
    parts = []
    starts = range(0, len(P), block) if len(P) else [0]
    for b, first in enumerate(starts):
        done = store.load(b) if store is not None else None
        if done is None:
            oracle_seed = seed if b == 0 else int(
                np.random.SeedSequence([seed, b]).generate_state(1)[0])
            done = _certify_block(P[first:first + block], level, tol, progress, max_iter,
                                  oracle_seed, solver)
            if store is not None:
                store.save(b, done)
        parts.append(done)
    return CertifyResult.concatenate(parts)


def _certify_block(P: np.ndarray, level: str, tol: float, progress: bool, max_iter: int,
                   seed: int, solver: str) -> CertifyResult:
    """:func:`certify_points` on one block: the NPA filter, then decompositions in order."""
    start = time.process_time()
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


def certify_file(input_path: str | os.PathLike, output: str | os.PathLike, level: str, *,
                 tol: float = DEFAULT_TOL, max_iter: int = 150, seed: int = 0, shard: int = 0,
                 shards: int = 1, allow_outside_ns: bool = False, progress: bool = False,
                 keep_checkpoint: bool = True) -> CertifyResult:
    """``chshml certify``: certify rows ``row % shards == shard`` of a points file and write
    the certify file (:class:`chshml.store.CertifyFile`) atomically.

    Finished blocks are checkpointed in ``OUT.h5.progress/`` (removed after the write unless
    ``keep_checkpoint``), so a rerun after a kill resumes there.
    """
    from chshml import __version__
    from chshml.geometry import space_of_dim
    from chshml.store import check_output, label_counts, load_points, write_h5

    check_output(output, [input_path])
    points = load_points(input_path, check_ns=not allow_outside_ns)
    rows = np.flatnonzero(np.arange(len(points)) % shards == shard)
    if not len(rows):
        raise InputError(f"--shard {shard} of {shards}: no rows (input has {len(points)})")
    points = points[rows]
    folder = progress_dir(output)
    res = certify_points(points, level, tol=tol, progress=progress, max_iter=max_iter,
                         seed=seed, checkpoint=folder)
    data = res.datasets(points)
    data[CertifyFile.ROWS] = rows
    meta = {
        "level": res.level, "tol": res.tol, "space": space_of_dim(points.shape[1]),
        "chshml_version": __version__, "command": "certify", "cpu_seconds": res.cpu_seconds,
        "cpu_seconds_npa": res.cpu_seconds_npa, "n_points": len(points),
        **label_counts(res.label), "shard": shard, "shards": shards, "seed": seed,
        "max_iter": max_iter,
    }
    meta.update(res.attrs)
    write_h5(output, data, meta, inputs=[input_path])
    if not keep_checkpoint:
        shutil.rmtree(folder, ignore_errors=True)
    return res
