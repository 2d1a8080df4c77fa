"""Batched NPA gauges: one primal-dual interior-point method vectorised over many behaviours.

Every gauge problem of a level has the same shape, so all Newton systems of a batch have
the same small size and numpy can solve them together (stacked LAPACK calls and a few large
GEMMs instead of one Python-level solver call per point).

Formulation. NS only bounds ``lam`` (``lam * G_ns p <= h``), and the PSD-feasible values
of ``lam`` form an interval ``[0, lam_psd]`` (``Gamma(0, 0) = I``), so
``lam* = min(lam_psd, lam_ns)`` with ``lam_ns = min_j h_j / (G_ns p)_j`` in closed form. The
PSD part is the pair of SDPs (``A = sum_i p_i F_i``)::

    (D)  max lam   s.t.  S = I + lam A + sum_k y_k G_k >= 0
    (P)  min tr Z  s.t.  <A, Z> = -1,  <G_k, Z> = 0,  Z >= 0

Both have strictly feasible starts (``lam = y = 0``; ``Z0 = (c I - A) / |A|_F^2``), and
``S`` is recomputed from ``(lam, y)`` each step, so the dual stays exactly feasible. The
method is Mehrotra's predictor-corrector with the HKM direction; the Schur complement
``M_ij = <D_i, Z D_j S^-1>`` (``D = (A, G_1..G_K)``) is built from one sparse product with
the fixed ``G`` basis, one stacked matmul and one GEMM per batch.

Cost per iteration is held down three ways, all measured (``benchmarks/label_throughput.py``):

* a point stops as soon as its dual ``lam`` reaches ``lam_ns``: then ``lam* = lam_ns``,
  certified by the NS facet (about three quarters of uniform behaviours end this way);
* step lengths come from stacked Cholesky tests on a grid (no eigenvalue solves): the
  largest tested ``t`` with ``X + t dX > 0`` is scaled by ``step``, which stays inside by
  convexity; the predictor is tested at two lengths only, enough for its centring role;
* a point whose gap stops shrinking at the rounding floor leaves the batch.

``S^-1`` is symmetrised after inversion: without it the last digits of the Newton system
drift and about 5 % of the brackets stall above the certification tolerance.

Certification. Nothing is trusted from the iteration: a point is *certified* only if its
rigorous bracket ``[lam_lo, lam_hi]`` is narrower than ``cert_tol * max(1, lam)``, where
``lam_lo`` comes from the dual iterate pulled inside the PSD cone by mixing with ``I``
(eigenvalue check) and ``lam_hi = beta0 / (beta . p)`` from the dual certificate
``(Z, mu)``: ``Z`` is the primal iterate made positive definite (eigenvalues clipped at
``1e-12 * max eigenvalue``), and ``(beta, beta0)`` follow from
:func:`chshml.npa.certificate.witness_map`. The
certificate is normalised so that ``beta . p = 1`` (up to rounding) and ``beta0 = lam_hi``.
Points that are not certified are reported as such (status ``batched:uncertified``,
``batched:stalled``, ``batched:breakdown`` or ``batched:max_iter``); callers must fall back
to another solver.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from chshml.errors import InputError
from chshml.geometry import NS_FACETS_G, NS_FACETS_H, ns_gauge
from chshml.linalg import eigvalsh
from chshml.npa.certificate import psd_part, witness_map
from chshml.npa.words import moment_map, normalise_level

#: Levels whose batched results were checked against Clarabel (tests + benchmark).
VALIDATED_LEVELS = ("1", "1+AB", "2", "3", "4")
#: Relative width of the certified bracket below which a batched solve is accepted.
DEFAULT_CERT_TOL = 4e-9
#: Clipping floor of the certificate's eigenvalues, relative to its largest eigenvalue.
CERT_EIG_FLOOR = 1e-12
#: Trial lengths of the predictor step (only its centring parameter depends on it).
_PREDICTOR_GRID = np.array([0.6, 1.0])
#: Below this relative gap, an iteration that does not shrink the gap by ``_STALL_RATIO``
#: ends the point's iteration (the rounding floor of the Newton system is reached).
_STALL_GAP = 1e-8
_STALL_RATIO = 0.5
#: Trial lengths of the corrector step below ``1 / step`` (which is tried first).
_STEP_GRID = np.array([1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.02, 0.04, 0.07, 0.1, 0.15, 0.2, 0.25,
                       0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85,
                       0.9, 0.93, 0.96, 1.0])

try:  # failure-tolerant stacked Cholesky (NaN rows instead of an exception for the batch)
    from numpy.linalg import _umath_linalg as _ul

    def _cholesky(a: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            return _ul.cholesky_lo(a)

    def _inv(a: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            return _ul.inv(a)

    def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            return _ul.solve(a, b)

    def _eigvalsh(a: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            w = _ul.eigvalsh_lo(a)
        bad = ~np.isfinite(w).all(axis=-1)
        if bad.any():  # LAPACK did not converge on these: the driver chain of chshml.linalg
            w[bad] = eigvalsh(a[bad])
        return w
except ImportError:  # pragma: no cover - private numpy module moved
    def _per_matrix(fn, a: np.ndarray, *rest: np.ndarray, shape: tuple | None = None
                    ) -> np.ndarray:
        out = np.full(shape or a.shape, np.nan)
        for i in range(len(a)):
            try:
                out[i] = fn(a[i], *(r[i] for r in rest))
            except np.linalg.LinAlgError:
                pass
        return out

    def _cholesky(a: np.ndarray) -> np.ndarray:
        return _per_matrix(np.linalg.cholesky, a)

    def _inv(a: np.ndarray) -> np.ndarray:
        return _per_matrix(np.linalg.inv, a)

    def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return _per_matrix(np.linalg.solve, a, b, shape=b.shape)

    def _eigvalsh(a: np.ndarray) -> np.ndarray:
        return eigvalsh(a)


def is_validated(level: str) -> bool:
    """Whether the batched solver is the default for ``level``.

    Parameters
    ----------
    level : str
        An NPA level, any accepted spelling.

    Returns
    -------
    bool
        True if its canonical spelling is in ``VALIDATED_LEVELS``.
    """
    return normalise_level(level) in VALIDATED_LEVELS


def require_validated(level: str) -> None:
    """InputError naming the validated levels if the batched solver is asked for ``level``.

    Parameters
    ----------
    level : str
        An NPA level, any accepted spelling.

    Raises
    ------
    InputError
        If ``level`` is not in ``VALIDATED_LEVELS``.
    """
    if not is_validated(level):
        raise InputError(f"--solver batched is validated for levels "
                         f"{', '.join(VALIDATED_LEVELS)}, not {level}: use --solver auto")


@dataclass
class BatchResult:
    """Per-point output of :meth:`BatchedGauge.solve`; certificates are NaN where absent.

    For ``n`` points at a level with an ``m x m`` moment matrix: ``lam``, ``lam_lo``,
    ``lam_hi``, ``certified``, ``iterations``, ``status`` and ``beta0`` have shape (n,);
    ``z`` (the certificate ``Z``) (n, m, m); ``mu`` (n, 16); ``beta`` (n, 8).
    ``cpu_seconds`` is the process time of the whole call.
    """

    lam: np.ndarray
    lam_lo: np.ndarray
    lam_hi: np.ndarray
    certified: np.ndarray
    iterations: np.ndarray
    status: np.ndarray
    z: np.ndarray
    mu: np.ndarray
    beta: np.ndarray
    beta0: np.ndarray
    cpu_seconds: float = 0.0


class BatchedGauge:
    """Vectorised interior-point solver for the gauge SDPs of one NPA level.

    Parameters
    ----------
    level : str or int
        The NPA level, any accepted spelling.
    cert_tol : float, optional
        Relative bracket width below which a point is certified.
    gap_tol, res_tol : float, optional
        Duality-gap and primal-residual tolerances that end a point's iteration.
    max_iter : int, optional
        Iteration cap per point.
    step : float, optional
        Fraction of the largest tested step that is taken (keeps iterates interior).
    chunk : int, optional
        Points per stacked batch; by default sized from the level so the Schur products
        stay in cache.
    """

    def __init__(self, level: str | int, cert_tol: float = DEFAULT_CERT_TOL,
                 gap_tol: float = 1e-10, res_tol: float = 1e-10, max_iter: int = 40,
                 step: float = 0.98,
                 chunk: int | None = None) -> None:
        self.mm = moment_map(level)
        self.level = self.mm.level
        self.cert_tol = float(cert_tol)
        self.gap_tol = float(gap_tol)
        self.res_tol = float(res_tol)
        self.max_iter = int(max_iter)
        self.step = float(step)
        m, k = self.mm.size, self.mm.n_free
        self.m, self.k = m, k
        self.Gv = self.mm.G.reshape(k, m * m)
        self.g2 = (self.Gv ** 2).sum(axis=1)
        # rows (j, d), columns c: G_j[d, c] (sparse: a few entries per free moment)
        self.GcatT = sparse.csr_matrix(self.mm.G.reshape(k * m, m))
        # chunks sized so that the stacked Schur products stay in cache (measured optimum)
        self.chunk = chunk or int(np.clip(6e5 / ((k + 1) * m * m), 128, 2048))

    # -- the interior-point iteration on a batch of nonzero behaviours ---------------------
    def _schur(self, A: np.ndarray, X: np.ndarray, Sinv: np.ndarray) -> np.ndarray:
        """``M_ij = <D_i, X D_j S^-1>`` for ``D = (A, G_1..G_K)`` (symmetric by construction).

        ``G_j X`` for all points and all ``j`` is one sparse product with the fixed basis;
        ``S^-1 G_j X = (X G_j S^-1)^T`` is one stacked matmul, and its inner products with
        the symmetric ``G_i`` give the block of ``M`` (one GEMM).
        """
        b, m, k = len(A), self.m, self.k
        M = np.empty((b, k + 1, k + 1))
        w0 = (X @ A @ Sinv).reshape(b, m * m)
        Av = A.reshape(b, m * m)
        M[:, 0, 0] = np.einsum("bq,bq->b", Av, w0)
        if k:
            Xc = X.transpose(1, 0, 2).reshape(m, b * m)                  # [c, (b, a)]
            GX = (self.GcatT @ Xc).reshape(k, m, b, m).transpose(2, 0, 1, 3)  # (G_j X)[d, a]
            Wt = (Sinv[:, None] @ GX).reshape(b, k, m * m)            # S^-1 G_j X = W_j^T
            M[:, 1:, 1:] = Wt @ self.Gv.T                               # [b, j, i] = <G_i, W_j>
            M[:, 1:, 0] = w0 @ self.Gv.T                                # <G_i, X A S^-1>
            M[:, 0, 1:] = M[:, 1:, 0]
        return 0.5 * (M + M.transpose(0, 2, 1))

    def _op(self, A: np.ndarray, R: np.ndarray) -> np.ndarray:
        """``(<A, R>, <G_k, R>)`` for stacked matrices ``R``."""
        b, m = len(A), self.m
        Rf = R.reshape(b, m * m)
        out = np.empty((b, self.k + 1))
        out[:, 0] = np.einsum("bq,bq->b", A.reshape(b, m * m), Rf)
        if self.k:
            out[:, 1:] = Rf @ self.Gv.T
        return out

    def _dual_matrix(self, A: np.ndarray, z: np.ndarray) -> np.ndarray:
        """``I + lam A + sum_k y_k G_k`` for stacked ``z = (lam, y)``."""
        S = z[:, 0, None, None] * A + np.eye(self.m)
        if self.k:
            S += (z[:, 1:] @ self.Gv).reshape(len(z), self.m, self.m)
        return S

    @staticmethod
    def _grid_step(X: np.ndarray, D: np.ndarray, grid: np.ndarray) -> np.ndarray:
        """Largest ``t`` in the ascending ``grid`` with ``X + t D`` positive definite (0 if none).

        Stacked Cholesky tests: the top of the grid first (it settles most points near the
        end of the iteration), then a binary search over the rest for the others.
        """
        out = np.full(len(X), grid[-1])
        top_ok = np.isfinite(_cholesky(X + grid[-1] * D)).all(axis=(1, 2))
        need = np.flatnonzero(~top_ok)
        if not len(need):
            return out
        lo = np.full(len(need), -1)
        hi = np.full(len(need), len(grid) - 1)
        while True:
            open_ = np.flatnonzero(hi - lo > 1)
            if not len(open_):
                break
            mid = (lo[open_] + hi[open_]) // 2
            idx = need[open_]
            ok = np.isfinite(_cholesky(X[idx] + grid[mid][:, None, None] * D[idx])).all(
                axis=(1, 2))
            lo[open_[ok]] = mid[ok]
            hi[open_[~ok]] = mid[~ok]
        out[need] = np.where(lo >= 0, grid[np.maximum(lo, 0)], 0.0)
        return out

    def _direction(self, sys_: tuple, Rc: np.ndarray) -> tuple[np.ndarray, ...]:
        """HKM Newton direction ``(dz, dX, dS)`` for the centring right-hand side ``Rc``."""
        Aa, Xa, Sinv, M, rp, nA2 = sys_
        rhs = self._op(Aa, Rc) - rp
        dz = _solve(M, rhs[..., None])[..., 0]
        dS = self._dual_matrix(Aa, dz) - np.eye(self.m)
        dX = Rc - Xa @ dS @ Sinv
        dX = 0.5 * (dX + dX.transpose(0, 2, 1))
        # project onto A(dX) = rp: the D_i have disjoint supports, so A A^* is diagonal
        r = (rp - self._op(Aa, dX)) / np.column_stack(
            [nA2, np.broadcast_to(self.g2, (len(Aa), self.k))])
        dX = dX + r[:, 0, None, None] * Aa
        if self.k:
            dX += (r[:, 1:] @ self.Gv).reshape(dX.shape)
        return dz, dX, dS

    def _iterate(self, A: np.ndarray, lam_cap: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Run the IPM on ``A`` (b, m, m); return ``z``, ``X``, iteration counts and why each
        point stopped: ``converged``, ``stalled``, ``breakdown`` or ``max_iter``.

        A point also stops as soon as its (exactly feasible) dual iterate reaches
        ``lam_cap`` (its NS gauge): then ``lam* = lam_cap`` and the NS facet certifies it.
        Steps keep a margin by convexity: if ``X + t D > 0`` then ``X + step t D > 0``.
        """
        b, m = len(A), self.m
        norm = np.sqrt(np.einsum("bij,bij->b", A, A))
        X = (1.5 * norm[:, None, None] * np.eye(m) - A) / (norm ** 2)[:, None, None]
        z = np.zeros((b, self.k + 1))
        d = np.zeros(self.k + 1)
        d[0] = -1.0
        iters = np.zeros(b, dtype=np.int64)
        reason = np.full(b, "max_iter", dtype=object)
        active = np.arange(b)
        step_grid = np.append(_STEP_GRID, 1.0 / self.step)
        mu_prev = np.full(b, np.inf)
        for it in range(self.max_iter):
            if not len(active):
                break
            Aa, Xa, za = A[active], X[active], z[active]
            S = self._dual_matrix(Aa, za)
            Sinv = _inv(S)
            Sinv = 0.5 * (Sinv + Sinv.transpose(0, 2, 1))
            ok = np.isfinite(Sinv).all(axis=(1, 2))
            mu = np.einsum("bij,bij->b", Xa, S) / m
            rp = d - self._op(Aa, Xa)
            lam = za[:, 0]
            conv = ((mu * m <= self.gap_tol * (1 + np.abs(lam)))
                    & (np.abs(rp).max(axis=1) <= self.res_tol)) | (lam >= lam_cap[active])
            reason[active[conv & ok]] = "converged"
            reason[active[~ok]] = "breakdown"
            keep = ok & ~conv  # a numerical breakdown stops too: certification decides
            if not keep.all():
                active, Aa, Xa, za, S, Sinv, mu, rp = (
                    v[keep] for v in (active, Aa, Xa, za, S, Sinv, mu, rp))
                if not len(active):
                    break
            iters[active] = it + 1
            nA2 = np.einsum("bij,bij->b", Aa, Aa)
            M = self._schur(Aa, Xa, Sinv)
            ok = np.isfinite(M).all(axis=(1, 2))
            if not ok.all():
                reason[active[~ok]] = "breakdown"
                active, Aa, Xa, za, S, Sinv, mu, rp, M, nA2 = (
                    v[ok] for v in (active, Aa, Xa, za, S, Sinv, mu, rp, M, nA2))
                if not len(active):
                    break

            sys_ = (Aa, Xa, Sinv, M, rp, nA2)
            dz, dX, dS = self._direction(sys_, -Xa)
            ap = self._grid_step(Xa, dX, _PREDICTOR_GRID)
            ad = self._grid_step(S, dS, _PREDICTOR_GRID)
            mu_aff = np.einsum("bij,bij->b", Xa + ap[:, None, None] * dX,
                               S + ad[:, None, None] * dS) / m
            with np.errstate(divide="ignore", invalid="ignore"):
                sigma = np.clip(np.nan_to_num((mu_aff / mu) ** 3, nan=0.0), 0.0, 1.0)
            Rc = (sigma * mu)[:, None, None] * Sinv - Xa - dX @ dS @ Sinv
            dz, dX, dS = self._direction(sys_, Rc)
            ap = np.minimum(1.0, self.step * self._grid_step(Xa, dX, step_grid))
            ad = np.minimum(1.0, self.step * self._grid_step(S, dS, step_grid))
            X[active] = Xa + ap[:, None, None] * dX
            z[active] = za + ad[:, None] * dz
            # a point that cannot move, or whose gap stagnates at the rounding floor, keeps
            # its last iterate: certification decides
            near = mu * m <= _STALL_GAP * (1 + np.abs(za[:, 0]))
            stalled = ((ap == 0) & (ad == 0)) | (near & (mu >= _STALL_RATIO * mu_prev[active]))
            mu_prev[active] = mu
            reason[active[stalled]] = "stalled"
            active = active[~stalled]
        return z, X, iters, reason

    # -- certification --------------------------------------------------------------------
    def _certify(self, P: np.ndarray, A: np.ndarray, z: np.ndarray,
                 X: np.ndarray) -> dict[str, np.ndarray]:
        """Rigorous bracket and certificate for each point from the final iterates."""
        b, m = len(P), self.m
        lam = z[:, 0]
        gamma = self._dual_matrix(A, z)
        e_min = _eigvalsh(gamma)[:, 0]
        lam_lo = np.where(e_min >= 0, lam, lam / (1.0 - np.minimum(e_min, 0.0)))
        lam_lo = np.where(np.isfinite(lam_lo) & (lam > 0), lam_lo, 0.0)
        lam = np.where(np.isfinite(lam), lam, np.nan)
        # certificate: primal iterate with eigenvalues clipped at a positive floor
        Xs = 0.5 * (X + X.transpose(0, 2, 1))
        good = np.isfinite(Xs).all(axis=(1, 2))
        Xs[~good] = np.eye(m)
        Z = psd_part(Xs, CERT_EIG_FLOOR)
        mu0 = np.zeros((b, len(NS_FACETS_H)))
        beta, beta0 = witness_map(self.mm, Z, mu0)
        along = np.einsum("bi,bi->b", beta, P)
        with np.errstate(divide="ignore", invalid="ignore"):
            hi_psd = np.where(good & (along > 0), beta0 / along, np.inf)
        lam_ns, facet = ns_gauge(P)
        lam_lo = np.minimum(lam_lo, lam_ns)
        use_ns = lam_ns < hi_psd
        lam_hi = np.minimum(hi_psd, lam_ns)
        # NS-bound witness: Z = 0, mu = e_j / g_j (so that beta . p = 1, beta0 = lam_ns)
        if use_ns.any():
            idx = np.flatnonzero(use_ns)
            g = P[idx] @ NS_FACETS_G.T
            Z[idx] = 0.0
            mu0[idx, facet[idx]] = 1.0 / g[np.arange(len(idx)), facet[idx]]
            beta[idx], beta0[idx] = witness_map(self.mm, Z[idx], mu0[idx])
        lam_out = np.clip(np.minimum(lam, lam_ns), lam_lo, lam_hi)
        width = lam_hi - lam_lo
        certified = np.isfinite(width) & (width <= self.cert_tol * np.maximum(1.0, lam_out))
        return dict(lam=lam_out, lam_lo=lam_lo, lam_hi=lam_hi, certified=certified,
                    z=Z, mu=mu0, beta=beta, beta0=beta0)

    def solve(self, points: np.ndarray) -> BatchResult:
        """Gauges, brackets and certificates of 8-D behaviours (rows of ``points``).

        Parameters
        ----------
        points : array_like, shape (n, 8) or (8,)
            Behaviours; the origin gets ``lam = inf``, certified, status ``origin``.

        Returns
        -------
        BatchResult
            Per-point results; status ``batched:optimal`` when certified, otherwise
            ``batched:`` + ``uncertified``, ``stalled``, ``breakdown`` or ``max_iter``.
        """
        start = time.process_time()
        P = np.atleast_2d(np.asarray(points, dtype=float))
        n, m = len(P), self.m
        res = BatchResult(
            lam=np.full(n, np.nan), lam_lo=np.zeros(n), lam_hi=np.full(n, np.inf),
            certified=np.zeros(n, dtype=bool), iterations=np.zeros(n, dtype=np.int64),
            status=np.full(n, "batched:failed", dtype=object),
            z=np.full((n, m, m), np.nan), mu=np.full((n, len(NS_FACETS_H)), np.nan),
            beta=np.full((n, 8), np.nan), beta0=np.full(n, np.nan))
        origin = ~np.any(np.abs(P) > 1e-300, axis=1)
        res.lam[origin] = res.lam_lo[origin] = res.lam_hi[origin] = np.inf
        res.certified[origin] = True
        res.status[origin] = "origin"
        todo = np.flatnonzero(~origin)
        for s in range(0, len(todo), self.chunk):
            idx = todo[s:s + self.chunk]
            Pc = P[idx]
            A = np.tensordot(Pc, self.mm.F, axes=1)
            z, X, iters, reason = self._iterate(A, ns_gauge(Pc)[0])
            out = self._certify(Pc, A, z, X)
            for key in ("lam", "lam_lo", "lam_hi", "certified", "z", "mu", "beta", "beta0"):
                getattr(res, key)[idx] = out[key]
            res.iterations[idx] = iters
            # a converged point that fails certification is "uncertified"
            why = np.where(reason == "converged", "uncertified", reason).astype(str)
            res.status[idx] = np.where(out["certified"], "batched:optimal",
                                       np.char.add("batched:", why))
        res.status = res.status.astype(str)
        res.cpu_seconds = time.process_time() - start
        return res
