"""Re-check stored dual witnesses without an SDP solver (numpy only).

A witness ``(beta, beta0)`` says ``beta . q <= beta0`` for every ``q`` in ``Q_n ∩ NS`` and
``beta . p > beta0`` for its point ``p``. Its certificate ``(Z, mu)`` proves the first claim
through the linear identity of :func:`chshml.npa.certificate.witness_map`, provided ``Z >= 0``
and ``mu >= 0``. For each stored witness the checker

1. tests ``Z`` positive semidefinite: a Cholesky factorisation (or ``Z = 0``, the bare
   NS-facet witness of a point outside NS) and the smallest eigenvalue
   ``e_min`` (numpy ``eigvalsh``, backward stable); with the rounding bound
   ``eps_Z = PSD_SAFETY * m * eps * max|eig(Z)|`` the matrix ``Z + delta I`` with
   ``delta = max(0, eps_Z - e_min)`` is PSD beyond doubt. Since the moment matrix has unit
   diagonal and the ``F_i``, ``G_k`` have zero diagonal, that shift only raises ``beta0`` by
   ``m * delta``; the check fails if ``e_min < -PSD_TOL * max(1, max|eig(Z)|)``;
2. tests ``mu >= 0`` exactly;
3. recomputes ``(beta, beta0)`` from ``(Z, mu)`` and the stored map and requires the stored
   values to agree within ``IDENTITY_TOL`` (relative);
4. requires ``margin = beta . p - max(beta0_stored, beta0_recomputed + m delta) - slack > 0``,
   ``slack`` bounding the rounding of the dot products.

Every label-0 point must carry a witness: a label 0 without one is a failure too.

Files written by ``chshml certify`` also carry decompositions (``atom_weights``,
``atom_state``, ``atom_angles``, ``n_atoms``); every label-1 row must have one, and it is
re-checked independently of the package's atom code (explicit Kronecker products): each
atom is a valid realisation (a real unit 4-vector, observables ``cos t Z + sin t X`` with
finite angles, hence +-1-valued), the weights are >= 0 and sum to 1 (within
``WEIGHT_SUM_TOL``), the padding rows are zero, and the mixture reproduces the point to
``RECON_TOL`` in every coordinate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chshml.errors import InputError
from chshml.geometry import NS_FACETS_G, NS_FACETS_H, to_full
from chshml.linalg import eigvalsh
from chshml.npa.certificate import witness_map
from chshml.npa.words import MomentMap, moment_map, normalise_level

#: Largest negative eigenvalue of Z (relative to its largest) accepted as rounding.
PSD_TOL = 1e-10
#: Safety factor on the eigenvalue rounding bound ``m * eps * |Z|``.
PSD_SAFETY = 16.0
#: Relative tolerance between stored and recomputed (beta, beta0).
IDENTITY_TOL = 1e-9
#: Decompositions: reconstruction error (every coordinate), unit-norm and weight-sum slack.
RECON_TOL = 1e-9
STATE_NORM_TOL = 1e-12
WEIGHT_SUM_TOL = 1e-12
_EPS = np.finfo(float).eps


@dataclass
class VerifyReport:
    """Summary of a verification: counts, smallest margins and per-point failure reasons."""

    n_points: int
    n_label0: int
    n_witnesses: int
    n_failed: int
    min_margin: float
    min_relative_margin: float
    min_eig_relative: float
    max_identity_residual: float
    map_source: str
    failures: list[tuple[int, str]] = field(default_factory=list)
    n_decompositions: int = 0
    max_recon_error: float = float("nan")

    @property
    def ok(self) -> bool:
        """True when no witness or decomposition failed."""
        return self.n_failed == 0

    def summary(self) -> str:
        """Human-readable report: counts, margins, tolerances, the first 20 failures."""
        lines = [
            f"points: {self.n_points}, label 0: {self.n_label0}, "
            f"witnesses checked: {self.n_witnesses}, failed: {self.n_failed}",
            f"map (Z, mu) -> (beta, beta0): {self.map_source}",
            f"min margin beta.p - beta0: {self.min_margin:.3e} "
            f"(relative to beta.p: {self.min_relative_margin:.3e})",
            f"min eigenvalue of Z / max eigenvalue: {self.min_eig_relative:.3e} "
            f"(PSD tolerance {PSD_TOL:g}; Cholesky required unless Z = 0; shift by rounding bound "
            f"{PSD_SAFETY:g} m eps |Z| charged to beta0)",
            f"max identity residual |stored - recomputed| (relative): "
            f"{self.max_identity_residual:.3e} (tolerance {IDENTITY_TOL:g})",
        ]
        if self.n_decompositions or not np.isnan(self.max_recon_error):
            lines.append(f"decompositions checked: {self.n_decompositions}, max reconstruction "
                         f"error {self.max_recon_error:.3e} (tolerance {RECON_TOL:g})")
        for i, why in self.failures[:20]:
            lines.append(f"FAIL point {i}: {why}")
        if len(self.failures) > 20:
            lines.append(f"... and {len(self.failures) - 20} more failures")
        lines.append(("OK: every witness and decomposition holds" if self.n_decompositions
                      else "OK: every witness holds") if self.ok else "FAILED")
        return "\n".join(lines)


def map_from_attrs(attrs: dict) -> tuple[np.ndarray, np.ndarray] | None:
    """The stored map ``(F, G)`` (dense, from the packed index), or None if absent.

    Parameters
    ----------
    attrs : dict
        File attributes; ``certificate_moment_index`` packs the upper triangle of the moment
        matrix (-1 on the diagonal, ``i < 8`` for ``F_i``, ``8 + k`` for ``G_k``).

    Returns
    -------
    tuple of ndarray or None
        ``F`` of shape (8, m, m) and ``G`` of shape (K, m, m).

    Raises
    ------
    InputError
        If the packed index is not a valid moment-matrix map.
    """
    if "certificate_moment_index" not in attrs:
        return None
    code = np.asarray(attrs["certificate_moment_index"], dtype=np.int64)
    m = int(attrs["certificate_size"])
    k = int(attrs["certificate_n_free"])
    iu, ju = np.triu_indices(m)
    if len(code) != len(iu):
        raise InputError(f"certificate_moment_index has {len(code)} entries, expected {len(iu)}")
    if np.any(code[iu == ju] != -1) or np.any(code[iu != ju] < 0) or np.any(code >= 8 + k):
        raise InputError("certificate_moment_index is not a valid moment-matrix map")
    F = np.zeros((8, m, m))
    G = np.zeros((k, m, m))
    for t in np.flatnonzero(code >= 0):
        target, c = (F, code[t]) if code[t] < 8 else (G, code[t] - 8)
        target[c, iu[t], ju[t]] = target[c, ju[t], iu[t]] = 1.0
    return F, G


def verify_witnesses(points: np.ndarray, beta: np.ndarray, beta0: np.ndarray,
                     cert_z: np.ndarray, cert_mu: np.ndarray, mm: MomentMap,
                     label: np.ndarray | None = None,
                     map_source: str = "") -> VerifyReport:
    """Check every stored witness (rows with finite ``beta``) against its certificate.

    Parameters
    ----------
    points : array_like, shape (n, 4) or (n, 8)
        The behaviours.
    beta : array_like, shape (n, 8)
        Stored functionals (NaN rows: no witness).
    beta0 : array_like, shape (n,)
        Stored bounds.
    cert_z : array_like, shape (n, m (m + 1) / 2)
        Stored ``Z``, upper triangle packed row by row (``numpy.triu_indices`` order).
    cert_mu : array_like, shape (n, 16)
        Stored NS multipliers.
    mm : MomentMap
        The level's map (``m = mm.size``).
    label : array_like, shape (n,), optional
        Labels; every label-0 row must carry a witness.
    map_source : str, optional
        Where ``mm`` came from, for the report.

    Returns
    -------
    VerifyReport
        Counts, smallest margins and one line per failing point.

    Raises
    ------
    InputError
        If the certificate arrays do not have the level's shapes.
    """
    P = to_full(np.atleast_2d(np.asarray(points, dtype=float)))
    beta = np.asarray(beta, dtype=float)
    beta0 = np.asarray(beta0, dtype=float)
    n, m = len(P), mm.size
    iu, ju = np.triu_indices(m)
    failures: list[tuple[int, str]] = []
    has = np.isfinite(beta).all(axis=1) & np.isfinite(beta0)
    n_label0 = 0
    if label is not None:
        label = np.asarray(label)
        n_label0 = int(np.sum(label == 0))
        for i in np.flatnonzero((label == 0) & ~has):
            failures.append((int(i), "label 0 without a witness"))
    idx = np.flatnonzero(has)
    margins = np.full(len(idx), np.inf)
    rel_margins = np.full(len(idx), np.inf)
    eig_rel = np.full(len(idx), np.inf)
    id_res = np.zeros(len(idx))
    if len(idx):
        zp = np.asarray(cert_z, dtype=float)[idx]
        mu = np.asarray(cert_mu, dtype=float)[idx]
        if zp.shape[1] != len(iu) or mu.shape[1] != len(NS_FACETS_H):
            raise InputError(f"certificate arrays have shapes {zp.shape} and {mu.shape}; "
                             f"expected (n, {len(iu)}) and (n, {len(NS_FACETS_H)})")
        finite = np.isfinite(zp).all(axis=1) & np.isfinite(mu).all(axis=1)
        Z = np.zeros((len(idx), m, m))
        Z[:, iu, ju] = np.where(finite[:, None], zp, 0.0)
        Z[:, ju, iu] = Z[:, iu, ju]
        w = eigvalsh(Z)
        scale = np.maximum(np.abs(w).max(axis=1), 1e-300)
        e_min = w[:, 0]
        eig_rel = e_min / scale
        # Z = 0 (a bare NS-facet witness, for points outside NS) is trivially PSD
        chol_ok = np.array([not z.any() or _cholesky_ok(z) for z in Z])
        eps_z = PSD_SAFETY * m * _EPS * scale
        delta = np.maximum(0.0, eps_z - e_min)
        b_rec, b0_rec = witness_map(mm, Z, np.where(finite[:, None], mu, 0.0))
        b0_scale = 1.0 + np.abs(beta0[idx])
        id_res = np.maximum(np.abs(b_rec - beta[idx]).max(axis=1) / b0_scale,
                            np.abs(b0_rec - beta0[idx]) / b0_scale)
        along = np.einsum("bi,bi->b", beta[idx], P[idx])
        slack = 8 * _EPS * (np.abs(beta[idx]) @ np.abs(P[idx]).T).diagonal() + 8 * _EPS * (
            np.abs(b0_rec) + m * np.abs(Z).max(axis=(1, 2)) * (m + len(mm.G)))
        bound = np.maximum(beta0[idx], b0_rec + m * delta)
        margins = along - bound - slack
        rel_margins = margins / np.maximum(np.abs(along), 1e-300)
        for t, i in enumerate(idx):
            reasons = []
            if not finite[t]:
                reasons.append("no certificate stored")
            else:
                if not chol_ok[t] or eig_rel[t] < -PSD_TOL:
                    reasons.append(f"Z not PSD (min eig / max eig = {eig_rel[t]:.2e}, "
                                   f"Cholesky {'ok' if chol_ok[t] else 'failed'})")
                if np.any(mu[t] < 0):
                    reasons.append(f"mu has a negative entry ({mu[t].min():.2e})")
                if id_res[t] > IDENTITY_TOL:
                    reasons.append(f"identity residual {id_res[t]:.2e}")
            if not margins[t] > 0:
                reasons.append(f"does not separate its point (margin {margins[t]:.2e})")
            if reasons:
                failures.append((int(i), "; ".join(reasons)))
    failures.sort()
    return VerifyReport(
        n_points=n, n_label0=n_label0, n_witnesses=len(idx), n_failed=len(failures),
        min_margin=float(np.min(margins)) if len(idx) else float("nan"),
        min_relative_margin=float(np.min(rel_margins)) if len(idx) else float("nan"),
        min_eig_relative=float(np.min(eig_rel)) if len(idx) else float("nan"),
        max_identity_residual=float(np.max(id_res)) if len(idx) else 0.0,
        map_source=map_source, failures=failures)


def _cholesky_ok(z: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(z)
    except np.linalg.LinAlgError:
        return False
    return True


def _atom_behaviour(psi: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Behaviour of one atom by explicit 4x4 operators (independent of chshml.certify)."""
    z = np.array([[1.0, 0.0], [0.0, -1.0]])
    x = np.array([[0.0, 1.0], [1.0, 0.0]])
    eye = np.eye(2)
    ops = [np.cos(t) * z + np.sin(t) * x for t in angles]
    a, b = ops[:2], ops[2:]
    full = [np.kron(a[0], eye), np.kron(a[1], eye), np.kron(eye, b[0]), np.kron(eye, b[1])]
    full += [np.kron(a[i], b[j]) for i in (0, 1) for j in (0, 1)]
    return np.array([psi @ o @ psi for o in full])


def verify_decompositions(points: np.ndarray, label: np.ndarray, weights: np.ndarray,
                          states: np.ndarray, angles: np.ndarray, n_atoms: np.ndarray
                          ) -> tuple[list[tuple[int, str]], int, float]:
    """Check every label-1 decomposition; return (failures, number checked, max error).

    Parameters
    ----------
    points : array_like, shape (n, 4) or (n, 8)
        The behaviours.
    label : array_like, shape (n,)
        Labels; rows with label 1 are checked.
    weights : array_like, shape (n, A)
        Atom weights, zero beyond ``n_atoms``.
    states : array_like, shape (n, A, 4)
        Real two-qubit states of the atoms.
    angles : array_like, shape (n, A, 4)
        Observable angles ``(A0, A1, B0, B1)``: observable ``cos t Z + sin t X``.
    n_atoms : array_like of int, shape (n,)
        Atoms used per row.

    Returns
    -------
    failures : list of (int, str)
        Row index and reasons for each failing row.
    n_checked : int
        Number of label-1 rows.
    max_error : float
        Largest reconstruction error (max over coordinates) among the checked rows.
    """
    P = to_full(np.atleast_2d(np.asarray(points, dtype=float)))
    label = np.asarray(label)
    failures: list[tuple[int, str]] = []
    worst = 0.0
    idx = np.flatnonzero(label == 1)
    for i in idx:
        k = int(n_atoms[i])
        w = np.asarray(weights[i], dtype=float)
        if not 1 <= k <= w.shape[0]:
            failures.append((int(i), f"label 1 without a decomposition (n_atoms = {k})"))
            continue
        reasons = []
        st = np.asarray(states[i][:k], dtype=float)
        an = np.asarray(angles[i][:k], dtype=float)
        if np.any(w[k:] != 0):
            reasons.append("nonzero weight beyond n_atoms")
        if not (np.isfinite(w[:k]).all() and np.isfinite(st).all() and np.isfinite(an).all()):
            reasons.append("non-finite weight, state or angle")
        else:
            if np.any(w[:k] < 0):
                reasons.append(f"negative weight ({w[:k].min():.2e})")
            if abs(w[:k].sum() - 1.0) > WEIGHT_SUM_TOL:
                reasons.append(f"weights sum to 1 + {w[:k].sum() - 1.0:.2e}")
            norm_err = np.abs(np.linalg.norm(st, axis=1) - 1.0).max()
            if norm_err > STATE_NORM_TOL:
                reasons.append(f"state not normalised (| |psi| - 1 | = {norm_err:.2e})")
            mix = sum(w[j] * _atom_behaviour(st[j], an[j]) for j in range(k))
            err = float(np.abs(mix - P[i]).max())
            worst = max(worst, err)
            if not err <= RECON_TOL:
                reasons.append(f"mixture misses the point by {err:.2e}")
        if reasons:
            failures.append((int(i), "; ".join(reasons)))
    return failures, len(idx), worst


def verify_file(path: str | Path) -> VerifyReport:
    """Verify every witness in a ``chshml label`` output; InputError on unusable input.

    Parameters
    ----------
    path : str or Path
        A labelled HDF5 file (``chshml label``, a sampler with labels, or ``chshml certify``,
        whose decompositions are checked too).

    Returns
    -------
    VerifyReport
        The report over all witnesses (and decompositions, for certify outputs).

    Raises
    ------
    InputError
        If the file, its datasets, its level or its stored map cannot be used.
    """
    from chshml.store import read_input_h5

    path = Path(path)
    data, attrs = read_input_h5(path, "labelled file")
    need = ("points", "witness_beta", "witness_beta0", "certificate_Z", "certificate_mu")
    missing = [k for k in need if k not in data]
    if missing:
        raise InputError(f"{path}: missing datasets {missing} (label with chshml >= this "
                         f"version to store certificates)")
    level = attrs.get("certificate_level", attrs.get("level"))
    if level is None:
        raise InputError(f"{path}: no 'level' attribute")
    try:
        engine_map = moment_map(normalise_level(str(level)))
    except ValueError as err:
        raise InputError(f"{path}: {err}") from None
    stored = map_from_attrs(attrs)
    if stored is None:
        mm, source = engine_map, f"rebuilt from level {engine_map.level} (word engine)"
    else:
        F, G = stored
        if not (F.shape == engine_map.F.shape and G.shape == engine_map.G.shape
                and np.array_equal(F, engine_map.F) and np.array_equal(G, engine_map.G)):
            raise InputError(f"{path}: stored certificate map differs from the word engine's "
                             f"map of level {engine_map.level}")
        for key, ref in (("certificate_ns_G", NS_FACETS_G), ("certificate_ns_h", NS_FACETS_H)):
            if key in attrs and not np.array_equal(np.asarray(attrs[key]), ref):
                raise InputError(f"{path}: stored {key} differs from the NS facets")
        mm, source = engine_map, (f"stored in the file (level {engine_map.level}; "
                              f"equal to the word engine's)")
    n = len(data["points"])
    for key in need[1:]:
        if len(data[key]) != n:
            raise InputError(f"{path}: dataset {key} has {len(data[key])} rows, points {n}")
    report = verify_witnesses(data["points"], data["witness_beta"], data["witness_beta0"],
                              data["certificate_Z"], data["certificate_mu"], mm,
                              data.get("label"), source)
    atoms = ("atom_weights", "atom_state", "atom_angles", "n_atoms")
    if any(k in data for k in atoms) or attrs.get("command") == "certify":
        missing = [k for k in atoms + ("label",) if k not in data]
        if missing:
            raise InputError(f"{path}: certify output without datasets {missing}")
        shapes = {k: data[k].shape for k in atoms}
        if (shapes["atom_weights"][:1] != (n,) or shapes["atom_state"][:1] != (n,)
                or shapes["atom_state"][2:] != (4,) or shapes["atom_angles"][2:] != (4,)
                or shapes["atom_angles"][:2] != shapes["atom_state"][:2]
                or shapes["atom_weights"][1:] != shapes["atom_state"][1:2]
                or shapes["n_atoms"] != (n,)):
            raise InputError(f"{path}: decomposition datasets have inconsistent shapes {shapes}")
        fails, count, worst = verify_decompositions(
            data["points"], data["label"], data["atom_weights"], data["atom_state"],
            data["atom_angles"], data["n_atoms"])
        report.failures = sorted(report.failures + fails)
        report.n_failed = len(report.failures)
        report.n_decompositions = count
        report.max_recon_error = worst
    return report
