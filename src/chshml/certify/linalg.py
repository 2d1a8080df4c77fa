"""Symmetric eigen-decompositions that do not rely on one LAPACK path converging.

A stand-in for the project-wide ``chshml.linalg`` helpers: numpy's stacked ``eigh`` first;
if LAPACK reports non-convergence, each matrix is retried with scipy's ``evr`` driver and then
``ev``, after symmetrising.
"""

from __future__ import annotations

import numpy as np


def eigh(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and eigenvectors of stacked real symmetric matrices."""
    a = np.asarray(a, dtype=float)
    try:
        return np.linalg.eigh(a)
    except np.linalg.LinAlgError:
        pass
    import scipy.linalg

    flat = 0.5 * (a + np.swapaxes(a, -1, -2))
    flat = flat.reshape((-1,) + a.shape[-2:])
    w = np.empty(flat.shape[:-1])
    v = np.empty(flat.shape)
    for i, m in enumerate(flat):
        for driver in ("evr", "ev"):
            try:
                w[i], v[i] = scipy.linalg.eigh(m, driver=driver)
                break
            except (np.linalg.LinAlgError, ValueError):
                continue
        else:
            raise np.linalg.LinAlgError(f"eigh failed on matrix {i} with every driver")
    return w.reshape(a.shape[:-1]), v.reshape(a.shape)
