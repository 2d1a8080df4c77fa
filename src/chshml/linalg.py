"""Symmetric eigendecompositions that cannot fail on finite input, for stacks of matrices.

LAPACK's divide-and-conquer driver (``syevd``, behind ``numpy.linalg.eigh``) can stop with
"Eigenvalues did not converge" on a perfectly ordinary finite symmetric matrix, and whether
it does depends on the CPU's BLAS kernel (see ``shared/fixtures/eigh_nonconvergent_36x36``).
A see-saw or NPA batch must not lose a shard to one such matrix, so every decomposition in
a hot loop goes through :func:`eigh` / :func:`eigvalsh`: numpy on the whole stack first
(fast), and only on failure a per-matrix chain of other drivers (``evr``, ``ev``, ``evx``),
then a retry on a deterministic 1e-13-relative symmetric perturbation. A matrix with
non-finite entries gets NaN eigenvalues and vectors, so the caller can give that instance a
status instead of a traceback.
"""

from __future__ import annotations

import numpy as np

#: scipy drivers tried, in order, on a matrix where numpy's ``syevd`` failed.
FALLBACK_DRIVERS = ("evr", "ev", "evx")
#: Relative size of the symmetric perturbation of the last retry.
JITTER = 1e-13


def _symmetrised(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    return 0.5 * (a + np.swapaxes(a, -1, -2))


def _jitter(m: np.ndarray) -> np.ndarray:
    """``m`` plus a fixed symmetric perturbation of relative size ``JITTER`` (reproducible)."""
    n = m.shape[-1]
    pert = np.sin(np.add.outer(np.arange(n), 2.0 * np.arange(n)) + 1.0)
    pert = 0.5 * (pert + pert.T)
    scale = JITTER * max(float(np.max(np.abs(m))), np.finfo(float).tiny)
    return m + scale * pert


def _one(m: np.ndarray, vectors: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Eigen-pairs of one symmetric matrix through the fallback chain; NaN if nothing works."""
    import scipy.linalg

    n = m.shape[-1]
    if np.isfinite(m).all():
        for candidate in (m, _jitter(m)):
            try:
                if vectors:
                    return np.linalg.eigh(candidate)
                return np.linalg.eigvalsh(candidate), None
            except np.linalg.LinAlgError:
                pass
            for driver in FALLBACK_DRIVERS:
                try:
                    if vectors:
                        return scipy.linalg.eigh(candidate, driver=driver, check_finite=False)
                    return scipy.linalg.eigh(candidate, eigvals_only=True, driver=driver,
                                             check_finite=False), None
                except (np.linalg.LinAlgError, ValueError):
                    continue
    w = np.full(n, np.nan)
    return w, (np.full((n, n), np.nan) if vectors else None)


def _stacked(a: np.ndarray, vectors: bool) -> tuple[np.ndarray, np.ndarray | None]:
    a = _symmetrised(a)
    try:
        with np.errstate(invalid="ignore"):
            if vectors:
                return np.linalg.eigh(a)
            return np.linalg.eigvalsh(a), None
    except np.linalg.LinAlgError:
        pass
    flat = a.reshape(-1, *a.shape[-2:])
    w = np.empty(flat.shape[:-1])
    v = np.empty(flat.shape) if vectors else None
    for i, m in enumerate(flat):
        wi, vi = _one(m, vectors)
        w[i] = wi
        if vectors:
            v[i] = vi
    shape = a.shape[:-1]
    return w.reshape(shape), (v.reshape(a.shape) if vectors else None)


def eigh(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and eigenvectors of the symmetric part of each matrix.

    Parameters
    ----------
    a : ndarray of shape (..., m, m)
        Real matrices; only their symmetric part is used.

    Returns
    -------
    w : ndarray of shape (..., m)
    v : ndarray of shape (..., m, m)
        Columns are eigenvectors. Both are NaN for a matrix with non-finite entries.
    """
    w, v = _stacked(a, vectors=True)
    assert v is not None
    return w, v


def eigvalsh(a: np.ndarray) -> np.ndarray:
    """Eigenvalues (ascending) of the symmetric part of each matrix of ``a`` (..., m, m)."""
    return _stacked(a, vectors=False)[0]


def solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solutions ``x`` of ``a x = b`` for stacks ``a`` (..., m, m), ``b`` (..., m, k).

    A singular or non-finite instance falls back to least squares on its own; one that
    still fails gets NaN, and the rest of the stack is unaffected.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    try:
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        pass
    out = np.full(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:], np.nan)
    a_all = np.broadcast_to(a, out.shape[:-2] + a.shape[-2:])
    b_all = np.broadcast_to(b, out.shape)
    for idx in np.ndindex(*out.shape[:-2]):
        ai, bi = a_all[idx], b_all[idx]
        if not (np.isfinite(ai).all() and np.isfinite(bi).all()):
            continue
        try:
            out[idx] = np.linalg.solve(ai, bi)
        except np.linalg.LinAlgError:
            try:
                out[idx] = np.linalg.lstsq(ai, bi, rcond=None)[0]
            except np.linalg.LinAlgError:
                pass
    return out
