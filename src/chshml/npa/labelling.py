"""Labelling behaviours with the NPA gauge: ``lam``, a certified bracket, a label and a status.

A label is 1 (in ``Q_n``), 0 (not) or -1 (undecided: no certified bracket, or ``lam``
within ``tol`` of 1). A solve is accepted only if its certified bracket is narrower than
``tol / 2``; otherwise the fallback solver is tried, and failing that the label is -1.

Engines: with ``solver="auto"`` (or ``"batched"``) and a validated level the batched
interior-point solver (:mod:`chshml.npa.batched`) gauges all points at once; any point it
does not certify is re-solved by the per-point cvxpy path (Clarabel, or MOSEK if licensed).
The status string names the engine, e.g. ``batched:optimal`` or
``batched:stalled>CLARABEL:optimal``. Other solver names use the cvxpy path only;
``"batched"`` at a level where the batched solver is not validated is an input error.

Certificates: every stored witness ``(beta, beta0)`` comes with its dual certificate
``(Z, mu)`` in ``extra`` (``certificate_Z``: the upper triangle of ``Z``, row-major as
``numpy.triu_indices(m)``; ``certificate_mu``), and ``attrs`` describe the linear map
``(Z, mu) -> (beta, beta0)`` (see :func:`chshml.npa.certificate.witness_map`), so that
``chshml verify`` re-checks every witness with numpy alone.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chshml import __version__
from chshml.errors import InputError
from chshml.geometry import NS_FACETS_G, NS_FACETS_H, ns_gauge, space_of_dim
from chshml.npa.batched import (
    CERT_EIG_FLOOR,
    BatchedGauge,
    is_validated,
    require_validated,
)
from chshml.npa.certificate import psd_part, witness_map
from chshml.npa.gauge import GaugeProblem, GaugeSolution, as_behaviours
from chshml.npa.solvers import fallback_solver, resolve_solver
from chshml.npa.words import MomentMap, moment_map, normalise_level
from chshml.progress import Progress
from chshml.store import LabelFile, label_counts, write_h5

DEFAULT_TOL = 1e-6
#: A point whose NS gauge exceeds this (deep inside, e.g. a behaviour scaled by 1e-9) is
#: solved along its ray at the NS boundary and the gauge scaled back (``lam`` is
#: positively homogeneous of degree -1): per-point solvers fail on such tiny inputs.
RESCALE_ABOVE = 1e3


def _batched(behaviours: np.ndarray, level: str, progress: bool) -> dict[str, np.ndarray]:
    """:class:`BatchedGauge` on all points, fed one solver chunk at a time so that progress
    lines (points done, rate, ETA) reach stderr; each chunk is exactly the one the solver
    would form itself, so results equal one call on all points.
    """
    gauge = BatchedGauge(level)
    n = len(behaviours)
    nonzero = np.flatnonzero(np.any(np.abs(behaviours) > 1e-300, axis=1))
    origin = np.setdiff1d(np.arange(n), nonzero)
    out: dict[str, np.ndarray] = {}
    meter = Progress(n, f"label level {level} (batched)", enabled=progress)

    def put(idx: np.ndarray, res: object) -> None:
        for key in ("lam", "lam_lo", "lam_hi", "certified", "status", "z", "mu", "beta",
                    "beta0"):
            value = np.asarray(getattr(res, key))
            if key not in out:
                out[key] = np.empty((n, *value.shape[1:]), dtype=value.dtype
                                    if key != "status" else object)
            out[key][idx] = value

    if len(origin):
        put(origin, gauge.solve(behaviours[origin]))
        meter.update(len(origin))
    for s in range(0, len(nonzero), gauge.chunk):
        idx = nonzero[s:s + gauge.chunk]
        put(idx, gauge.solve(behaviours[idx]))
        meter.update(len(idx))
    out["status"] = out["status"].astype(str)
    return out


@dataclass
class LabelResult:
    """Per-point gauge, bracket, label, status and (for label 0) the separating functional."""

    level: str
    solver: str
    tol: float
    lam: np.ndarray
    lam_lo: np.ndarray
    lam_hi: np.ndarray
    label: np.ndarray
    status: np.ndarray
    witness_beta: np.ndarray
    witness_beta0: np.ndarray
    cpu_seconds: float = 0.0
    extra: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)


def decide(lam: np.ndarray, width: np.ndarray, tol: float,
           lam_lo: np.ndarray | None = None, lam_hi: np.ndarray | None = None) -> np.ndarray:
    """Label from a gauge: 1 if ``lam >= 1 + tol``, 0 if ``lam <= 1 - tol``, else -1.

    ``lam`` counts only with a certified bracket: narrower than ``tol / 2`` relative to
    ``max(1, lam)`` (so a point deep inside, ``lam = 1e9``, needs a bracket narrower than
    ``5e-4`` in absolute terms, the same relative accuracy). A bracket that lies wholly at
    ``>= 1 + tol`` (``lam_lo``) or ``<= 1 - tol`` (``lam_hi``) decides whatever its width.
    """
    lam = np.asarray(lam, dtype=float)
    width = np.asarray(width, dtype=float)
    label = np.full(lam.shape, -1, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        scale = np.where(np.isfinite(lam), np.maximum(1.0, np.abs(lam)), 1.0)
        certified = np.isfinite(width) & (width <= tol / 2 * scale) | np.isinf(lam) & (lam > 0)
        above = certified & (lam >= 1 + tol)
        below = certified & (lam <= 1 - tol)
        if lam_lo is not None:
            above |= np.asarray(lam_lo, dtype=float) >= 1 + tol
        if lam_hi is not None:
            below |= np.asarray(lam_hi, dtype=float) <= 1 - tol
    label[above & ~below] = 1
    label[below & ~above] = 0
    return label


def certificate_from_duals(z: np.ndarray | None,
                           mu: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """A stored-form certificate from a solver's duals: ``Z`` made positive definite.

    Eigenvalues are clipped at ``CERT_EIG_FLOOR`` times the largest one (as in the batched
    solver) and ``mu`` at 0; the witness is then ``witness_map`` of exactly these arrays.
    """
    if z is None or mu is None:
        return None
    z = np.asarray(z, dtype=float)
    mu = np.clip(np.asarray(mu, dtype=float).ravel(), 0.0, None)
    if not (np.isfinite(z).all() and np.isfinite(mu).all()):
        return None
    return psd_part(z, CERT_EIG_FLOOR), mu


def certificate_attrs(mm: MomentMap) -> dict:
    """File attributes describing the map ``(Z, mu) -> (beta, beta0)`` of a level."""
    m = mm.size
    iu, ju = np.triu_indices(m)
    code = np.full(len(iu), -1, dtype=np.int64)
    for c in range(8):
        code[mm.F[c][iu, ju] != 0] = c
    for k in range(mm.n_free):
        code[mm.G[k][iu, ju] != 0] = 8 + k
    return {
        "certificate_level": mm.level,
        "certificate_size": m,
        "certificate_n_free": mm.n_free,
        "certificate_layout": "certificate_Z rows: upper triangle of the symmetric m x m "
                              "matrix Z, row-major (numpy.triu_indices(m))",
        "certificate_moment_index": code,
        "certificate_moment_index_meaning": "per packed entry (i, j) of the moment matrix "
                                            "Gamma: -1 = identity (diagonal, value 1), "
                                            "0..7 = behaviour coordinate p_c, 8+k = free "
                                            "moment y_k",
        "certificate_ns_G": NS_FACETS_G,
        "certificate_ns_h": NS_FACETS_H,
        "certificate_identity": "beta_c = -<Z, F_c> + (ns_G^T mu)_c; beta0 = tr Z + mu.ns_h "
                                "+ sum_k |<Z, G_k>|; valid on Q_n cap NS if Z >= 0, mu >= 0",
        "certificate_eig_floor": CERT_EIG_FLOOR,
    }


class Labeller:
    """Solve gauges point by point with one compiled problem per solver (fallback lazily)."""

    def __init__(self, level: str, solver: str = "auto", tol: float = DEFAULT_TOL) -> None:
        self.level = normalise_level(level)
        self.solver = resolve_solver(solver)
        self.tol = float(tol)
        self._problems: dict[str, GaugeProblem] = {}

    def problem(self, solver: str) -> GaugeProblem:
        """The cvxpy gauge problem of this level for ``solver``, built once and reused."""
        if solver not in self._problems:
            self._problems[solver] = GaugeProblem(self.level, solver)
        return self._problems[solver]

    def _duals(self, solver: str) -> tuple[np.ndarray | None, np.ndarray | None]:
        prob = self.problem(solver)
        return prob.psd.dual_value, prob.ns.dual_value

    def solve_with_duals(self, p: np.ndarray) -> tuple[GaugeSolution, tuple]:
        """Like :meth:`solve`, also returning the duals ``(Z, mu)`` of the accepted solve."""
        first = self.problem(self.solver).solve(p)
        duals = self._duals(self.solver) if first.witness is not None else (None, None)
        if first.status == "origin" or first.width <= self.tol / 2:
            return first, duals
        backup = fallback_solver(self.solver)
        second = self.problem(backup).solve(p)
        if second.width < first.width:
            second.status = f"{first.status}>retry:{second.status}"
            return second, (self._duals(backup) if second.witness is not None
                            else (None, None))
        first.status = f"{first.status}>retry-failed:{second.status}"
        return first, duals

    def solve(self, p: np.ndarray) -> GaugeSolution:
        """The certified gauge of one 8-D behaviour, retrying with the fallback solver."""
        return self.solve_with_duals(p)[0]


def label_points(points: np.ndarray, level: str, solver: str = "auto",
                 tol: float = DEFAULT_TOL, progress: bool = False) -> LabelResult:
    """Gauge and label 4-D or 8-D behaviours at an NPA level (see module docstring)."""
    behaviours = as_behaviours(points)
    level = normalise_level(level)
    choice = str(solver).lower()
    if choice == "batched":
        require_validated(level)
    labeller = Labeller(level, solver, tol)
    mm = moment_map(level)
    n, m = len(behaviours), mm.size
    iu, ju = np.triu_indices(m)
    lam, lo, hi = np.empty(n), np.empty(n), np.empty(n)
    status = np.empty(n, dtype=object)
    beta = np.full((n, 8), np.nan)
    beta0 = np.full(n, np.nan)
    cert_z = np.full((n, len(iu)), np.nan)
    cert_mu = np.full((n, len(NS_FACETS_H)), np.nan)
    start = time.process_time()
    todo = np.arange(n)
    engine = labeller.solver
    if choice in ("auto", "batched") and is_validated(level) and n:
        engine = f"batched+{labeller.solver}"
        res = _batched(behaviours, level, progress)
        ok = res["certified"]
        lam[ok], lo[ok], hi[ok], status[ok] = (res["lam"][ok], res["lam_lo"][ok],
                                               res["lam_hi"][ok], res["status"][ok])
        sep = ok & (res["lam_hi"] < 1) & (np.einsum("bi,bi->b", res["beta"], behaviours)
                                          > res["beta0"])
        beta[sep], beta0[sep] = res["beta"][sep], res["beta0"][sep]
        cert_z[sep] = res["z"][sep][:, iu, ju]
        cert_mu[sep] = res["mu"][sep]
        todo = np.flatnonzero(~ok)
        first_status = res["status"]
    else:
        first_status = None
    meter = Progress(len(todo), f"label level {labeller.level}", enabled=progress)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam_ns = ns_gauge(behaviours)[0] if n else np.zeros(0)
    for i in todo:
        p = behaviours[i]
        scale = float(lam_ns[i]) if np.isfinite(lam_ns[i]) and lam_ns[i] > RESCALE_ABOVE else 1.0
        sol, (z, mu) = labeller.solve_with_duals(p * scale)
        lam[i], lo[i], hi[i] = sol.lam * scale, sol.lam_lo * scale, sol.lam_hi * scale
        status[i] = sol.status if first_status is None else f"{first_status[i]}>{sol.status}"
        if scale != 1.0:
            status[i] += f">rescaled:{scale:.3g}"
        if sol.witness is not None and sol.lam_hi < 1 and scale == 1.0:
            cert = certificate_from_duals(z, mu)
            if cert is not None:
                b, b0 = witness_map(mm, cert[0][None], cert[1][None])
                if b[0] @ p > b0[0]:
                    beta[i], beta0[i] = b[0], b0[0]
                    cert_z[i], cert_mu[i] = cert[0][iu, ju], cert[1]
        meter.update()
    cpu = time.process_time() - start
    with np.errstate(invalid="ignore"):  # inf - inf at the origin: decided by lam alone
        label = decide(lam, hi - lo, labeller.tol, lo, hi)
    extra = {LabelFile.CERTIFICATE_Z: cert_z, LabelFile.CERTIFICATE_MU: cert_mu}
    attrs = certificate_attrs(mm)
    attrs["engine"] = engine
    return LabelResult(labeller.level, labeller.solver, labeller.tol, lam, lo, hi, label,
                       status.astype(str), beta, beta0, cpu, extra, attrs)


def validate_label_options(level: str, solver: str, tol: float) -> str:
    """Check level, solver and tolerance before any work; return the normalised level.

    Raises :class:`InputError` for an unknown level, a tolerance outside (0, 0.1), an
    unknown or unusable solver, or ``batched`` at a level it is not validated for.
    """
    try:
        level = normalise_level(level)
    except ValueError as err:
        raise InputError(f"--level: {err}") from None
    if not (np.isfinite(tol) and 0 < tol < 0.1):
        raise InputError(f"--tol must be in (0, 0.1), got {tol}")
    if str(solver).lower() == "batched":
        require_validated(level)
    resolve_solver(solver)
    return level


def label_file(points: np.ndarray, output: str | os.PathLike, level: str, solver: str,
               tol: float, progress: bool = True, attrs: Mapping[str, Any] | None = None,
               inputs: Iterable[str | os.PathLike | None] = ()) -> None:
    """Label ``points`` (n x 4 or n x 8) and write a :class:`~chshml.store.LabelFile`
    atomically; ``attrs`` are added to the file's attributes.
    """
    res = label_points(points, level, solver=solver, tol=tol, progress=progress)
    datasets = {
        LabelFile.POINTS: points, LabelFile.LAM: res.lam, LabelFile.LAM_LO: res.lam_lo,
        LabelFile.LAM_HI: res.lam_hi, LabelFile.LABEL: res.label.astype(np.int8),
        LabelFile.STATUS: res.status, LabelFile.WITNESS_BETA: res.witness_beta,
        LabelFile.WITNESS_BETA0: res.witness_beta0,
    }
    datasets.update(res.extra)
    meta = {
        "level": res.level, "solver": res.solver, "tol": res.tol,
        "space": space_of_dim(points.shape[1]), "chshml_version": __version__,
        "cpu_seconds": res.cpu_seconds, "n_points": len(points), **label_counts(res.label),
    }
    meta.update(res.attrs)  # the certificate map (certificate_attrs) and the engine
    meta.update(attrs or {})
    write_h5(output, datasets, meta, inputs=inputs)
