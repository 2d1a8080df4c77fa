"""Judging classifiers of Q: accuracies, the spread test, slices, Monte Carlo volumes.

Everything works from arrays and a ``predict(points) -> labels`` function (label 1 = quantum),
so it serves SVMs, networks and any other rule alike. Points carrying label -1 (undecided) are
left out of every accuracy and counted.

Spread test (paper Sec. IV A): boundary points ``p_b``, uniform on the boundary surface of
``Q ∩ NS`` (the paper: directions of uniform points of a thin shell around Q_1), are shifted to
``(1 + s) p_b`` with ``s ~ N(0, sigma)`` and labelled by the sign of the shift: 1 (quantum)
when shifted inward. Exactly half the shifts are inward (balanced by construction, as the
paper's 0.5 chance level assumes). Recipe ``paper`` (default) keeps boundary points on NS
facets, whose outward shift leaves NS (label 0: no behaviour is quantum); ``ns_interior``
drops them (:mod:`chshml.sampling.labelled` has the same two recipes for the spread sets).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from chshml.geometry import (
    CORR_DIM,
    FULL_DIM,
    Slice,
    is_local,
    nonlocal_simplex_vertices,
    ns_violation,
    tlm_gauge,
    tlm_margin,
)

Predict = Callable[[np.ndarray], np.ndarray]

#: Sigmas of the paper's spread tables and the default curve over [1e-4, 1e-1].
SPREAD_SIGMAS = (1e-2, 1e-3)
CURVE_SIGMAS = tuple(float(s) for s in np.logspace(-4, -1, 13))


def _pair(y: np.ndarray, yhat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y).astype(int).ravel()
    yhat = np.asarray(yhat).astype(int).ravel()
    if y.shape != yhat.shape:
        raise ValueError(f"{len(y)} labels but {len(yhat)} predictions")
    keep = y >= 0
    return y[keep], yhat[keep]


def accuracy(y: np.ndarray, yhat: np.ndarray) -> float:
    """Fraction of decided labels (0/1) predicted correctly; NaN if there are none."""
    y, yhat = _pair(y, yhat)
    return float(np.mean(y == yhat)) if len(y) else float("nan")


def balanced_accuracy(y: np.ndarray, yhat: np.ndarray) -> float:
    """Mean over the classes present of the per-class recall (scikit-learn's definition)."""
    y, yhat = _pair(y, yhat)
    if not len(y):
        return float("nan")
    recalls = [np.mean(yhat[y == c] == c) for c in np.unique(y)]
    return float(np.mean(recalls))


def binomial_se(p: float, n: int) -> float:
    """Standard error ``sqrt(p (1 - p) / n)`` of a Monte Carlo fraction."""
    return float(np.sqrt(max(p * (1 - p), 0.0) / n)) if n else float("nan")


def scores(y: np.ndarray, yhat: np.ndarray) -> dict:
    """Accuracy, balanced accuracy, decided count and undecided count."""
    y = np.asarray(y)
    return {"acc": accuracy(y, yhat), "balanced_acc": balanced_accuracy(y, yhat),
            "n": int(np.sum(y >= 0)), "n_undecided": int(np.sum(y < 0))}


# ---------------------------------------------------------------------------
# Ground truth and uniform samples
# ---------------------------------------------------------------------------

def tlm_labels(points: np.ndarray) -> np.ndarray:
    """Exact quantum labels of zero-marginal behaviours (TLM): 1 quantum, 0 not.

    A point outside NS (some ``|E| > 1``) is no behaviour and gets 0 (TLM itself clips).
    """
    pts = np.asarray(points, dtype=float)
    inside = ns_violation(pts) <= 1e-12
    return ((tlm_margin(pts) >= 0) & inside).astype(np.int8)


def uniform_ns(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform points of NS: the cube in 4-D, rejection from the cube in 8-D (~2.7 %)."""
    if dim == CORR_DIM:
        return rng.uniform(-1, 1, (n, CORR_DIM))
    chunks, total = [], 0
    while total < n:
        x = rng.uniform(-1, 1, (min(40 * (n - total) + 1000, 500_000), FULL_DIM))
        x = x[ns_violation(x) <= 0]
        chunks.append(x)
        total += len(x)
    return np.concatenate(chunks)[:n]


def uniform_canonical_simplex(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform points of the canonical nonlocal simplex (flat Dirichlet weights)."""
    w = rng.dirichlet(np.ones(9), n)
    return w @ nonlocal_simplex_vertices(0)


# ---------------------------------------------------------------------------
# Spread test
# ---------------------------------------------------------------------------

def boundary_from_gauge(points: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Boundary points ``lam p`` of points with finite positive gauge, off the NS boundary."""
    points = np.asarray(points, dtype=float)
    lam = np.asarray(lam, dtype=float)
    ok = np.isfinite(lam) & (lam > 0) & np.any(points != 0, axis=1)
    pb = lam[ok, None] * points[ok]
    return pb[ns_violation(pb) < -1e-9]


def tlm_normals(boundary: np.ndarray, face_tol: float = 1e-12) -> np.ndarray:
    """Outward normals of ``Q`` (4-D: TLM ∩ cube) at its boundary points.

    On a cube face ``|E_i| = 1`` the face normal ``sign(E_i) e_i``; elsewhere the gradient
    of the active TLM functional ``|sum_i s_i asin E_i|``: ``sign * s_i / sqrt(1 - E_i^2)``.
    """
    pb = np.asarray(boundary, dtype=float)
    e = np.clip(pb, -1.0, 1.0)
    signs = np.ones((4, 4)) - 2 * np.eye(4)[::-1]
    sums = np.arcsin(e) @ signs.T
    k = np.argmax(np.abs(sums), axis=1)
    rows = np.arange(len(pb))
    with np.errstate(divide="ignore"):
        grad = (np.sign(sums[rows, k])[:, None] * signs[k]
                / np.sqrt(np.clip(1.0 - e**2, 1e-300, None)))
    on_face = np.abs(pb).max(axis=1) >= 1.0 - face_tol
    face = np.zeros_like(pb)
    j = np.argmax(np.abs(pb), axis=1)
    face[rows, j] = np.sign(pb[rows, j])
    return np.where(on_face[:, None], face, grad)


def boundary_4d(n: int, rng: np.random.Generator, recipe: str = "paper",
                oversample: int = 4) -> np.ndarray:
    """``n`` points uniform on the boundary surface of Q in 4-D (exact TLM gauges).

    The measure of the spread *sets* (:func:`chshml.sampling.labelled.spread_sample`):
    boundary points along uniform directions, resampled without replacement with weights
    ``r^3 / cos(normal, ray)`` (surface measure over solid angle, exact normals from
    :func:`tlm_normals`). Recipe ``paper`` keeps every face (cube faces included);
    ``ns_interior`` only the part of the surface strictly inside the cube.
    """
    from chshml.sampling.labelled import check_recipe, surface_weights

    check_recipe(recipe)
    pool, total = [], 0
    while total < oversample * n:
        u = rng.normal(size=(2 * oversample * n + 16, CORR_DIM))
        pb = tlm_gauge(u)[:, None] * u
        if recipe == "ns_interior":
            pb = pb[ns_violation(pb) < -1e-9]
        pool.append(pb)
        total += len(pb)
    pool = np.concatenate(pool)[:oversample * n]
    w = surface_weights(pool, tlm_normals(pool))
    chosen = rng.choice(len(pool), size=n, replace=False, p=w / w.sum())
    return pool[chosen]


def spread_points(boundary: np.ndarray, sigma: float,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shift boundary points to ``(1 + s) p_b``, exactly half inward; label 1 when inward.

    Outward points beyond an NS facet are kept: label 0 is right for them too.
    """
    from chshml.sampling.labelled import balanced_shifts

    shift = balanced_shifts(len(boundary), sigma, rng)
    return (1.0 + shift)[:, None] * boundary, (shift < 0).astype(np.int8)


def spread_accuracy(predict: Predict, boundary: np.ndarray, sigma: float,
                    rng: np.random.Generator) -> float:
    """Accuracy of ``predict`` on one spread set built from ``boundary``."""
    x, y = spread_points(boundary, sigma, rng)
    return accuracy(y, predict(x))


def spread_curve(predict: Predict, boundary: np.ndarray, sigmas: tuple[float, ...],
                 rng: np.random.Generator) -> list[float]:
    """Spread accuracy for each sigma, each on its own shift of the same boundary points."""
    return [spread_accuracy(predict, boundary, s, rng) for s in sigmas]


# ---------------------------------------------------------------------------
# Slices
# ---------------------------------------------------------------------------

@dataclass
class SliceResult:
    """Predictions on slice points ``xy`` against ``truth``; ``acc`` over decided labels."""

    name: str
    xy: np.ndarray
    truth: np.ndarray
    pred: np.ndarray
    acc: float


def slice_truth(sl: Slice, points: np.ndarray) -> np.ndarray:
    """True labels where they are exact without SDPs: TLM on zero-marginal slices."""
    if sl.dim == FULL_DIM and np.any(np.abs(points[:, :4]) > 0):
        raise ValueError(f"{sl.name}: non-zero marginals; true labels need NPA (slice data)")
    return tlm_labels(points)


def evaluate_slice(predict: Predict, sl: Slice, dim: int, n: int = 20_000,
                   rng: np.random.Generator | None = None,
                   data: tuple[np.ndarray, np.ndarray] | None = None) -> SliceResult:
    """Slice accuracy on ``n`` uniform NS points of ``sl`` (or on given ``(points, labels)``).

    A 4-D slice is embedded with zero marginals for 8-D models: there Q_n = Q = TLM.
    """
    if data is not None:
        points, truth = np.asarray(data[0], dtype=float), np.asarray(data[1])
    else:
        rng = rng or np.random.default_rng(0)
        _, points = sl.uniform(n, rng)
        truth = slice_truth(sl, points)
    xy = slice_coordinates(sl, points)
    x = points
    if dim == FULL_DIM and points.shape[1] == CORR_DIM:
        x = np.hstack([np.zeros((len(points), 4)), points])
    elif dim == CORR_DIM and points.shape[1] == FULL_DIM:
        x = points[:, 4:]
    pred = np.asarray(predict(x)).astype(np.int8)
    return SliceResult(sl.name, xy, truth.astype(np.int8), pred, accuracy(truth, pred))


def slice_coordinates(sl: Slice, points: np.ndarray) -> np.ndarray:
    """Least-squares slice coordinates ``(x, y)`` of points lying on the plane of ``sl``."""
    basis = np.column_stack([sl.u, sl.v])
    pts = np.asarray(points, dtype=float)
    if pts.shape[1] != sl.dim:
        pts = pts[:, 4:] if sl.dim == CORR_DIM else np.hstack([np.zeros((len(pts), 4)), pts])
    sol, *_ = np.linalg.lstsq(basis, (pts - sl.origin).T, rcond=None)
    return sol.T


# ---------------------------------------------------------------------------
# Monte Carlo volumes (report)
# ---------------------------------------------------------------------------

#: Exact volume ratios: vol(Q)/vol(NS) in 4-D (3 pi^2 / 32, the TLM body in the cube) and
#: vol(L)/vol(NS) in 8-D (16/17: NS is L plus 8 simplices each of volume vol(L)/128).
VOLUME_Q4_EXACT = 3 * np.pi**2 / 32
VOLUME_L8_EXACT = 16 / 17


def ns_wide_accuracy(acc_simplex: float, n: int) -> dict:
    """NS-wide accuracy of an 8-D model from its accuracy in the canonical nonlocal simplex.

    Local points (16/17 of NS) are predicted quantum, which is right; the 8 nonlocal
    simplices are images of the canonical one, so ``acc = 16/17 + acc_simplex / 17``
    (the paper's "global accuracy"). The standard error scales by 1/17.
    """
    acc = VOLUME_L8_EXACT + (1 - VOLUME_L8_EXACT) * acc_simplex
    return {"acc": float(acc), "se": (1 - VOLUME_L8_EXACT) * binomial_se(acc_simplex, n),
            "n": int(n), "source": "16/17 + acc(canonical simplex)/17"}


def volume_q4(n: int, rng: np.random.Generator) -> tuple[float, float]:
    """vol(Q)/vol(NS) in 4-D (TLM, exact labels) and its standard error; ~0.925 expected."""
    p = float(np.mean(tlm_margin(rng.uniform(-1, 1, (n, CORR_DIM))) >= 0))
    return p, binomial_se(p, n)


def volume_local8(n: int, rng: np.random.Generator) -> tuple[float, float]:
    """vol(L)/vol(NS) in 8-D from ``n`` uniform NS points; ~0.9412 expected (paper Ref. 32)."""
    p = float(np.mean(is_local(uniform_ns(n, FULL_DIM, rng))))
    return p, binomial_se(p, n)


def chsh_exit_share(n: int, rng: np.random.Generator) -> dict:
    """Share of uniform directions from the origin whose ray leaves L through a CHSH facet.

    Returns the share through the canonical facet (paper: ~0.21 %) and through any of the 8,
    each with its standard error.
    """
    from chshml.geometry import local_facets

    g, h = local_facets(FULL_DIM)
    u = rng.normal(size=(n, FULL_DIM))
    proj = u @ g.T
    with np.errstate(divide="ignore"):
        t = np.where(proj > 0, h / np.where(proj > 0, proj, 1.0), np.inf)
    exit_facet = np.argmin(t, axis=1)
    n_ns = len(h) - 8
    one = float(np.mean(exit_facet == n_ns))
    anyf = float(np.mean(exit_facet >= n_ns))
    return {"canonical": one, "canonical_se": binomial_se(one, n),
            "any": anyf, "any_se": binomial_se(anyf, n), "n": n}


# ---------------------------------------------------------------------------
# Synthetic 4-D datasets with exact labels (tests, demos)
# ---------------------------------------------------------------------------

def tlm_dataset(n: int, rng: np.random.Generator, kind: str = "uniform",
                eps: float = 1e-2) -> dict[str, np.ndarray]:
    """A 4-D dataset in the workflow's layout with exact TLM labels and gauges.

    ``kind="uniform"``: uniform in the cube (unbalanced, ~92.5 % quantum); ``"offset"``: pairs
    ``(1 -+ eps) p_b`` around TLM boundary points along uniform directions (paper Eq. 7).
    Splits are a random 70/15/15 partition.
    """
    if kind == "uniform":
        points = rng.uniform(-1, 1, (n, CORR_DIM))
    elif kind == "offset":
        # directions whose outer point (1 + eps) p_b leaves the cube are dropped: it is no
        # behaviour (as in `chshml sample --method boundary`)
        u = rng.normal(size=(4 * n + 8, CORR_DIM))
        pb = tlm_gauge(u)[:, None] * u
        pb = pb[np.max(np.abs((1 + eps) * pb), axis=1) <= 1][:(n + 1) // 2]
        if len(pb) < (n + 1) // 2:
            raise ValueError(f"eps {eps}: too few boundary points with (1 + eps) p_b in NS")
        points = np.concatenate([(1 - eps) * pb, (1 + eps) * pb])[:n]
    else:
        raise ValueError(f"kind must be 'uniform' or 'offset', got {kind!r}")
    perm = rng.permutation(n)
    n_tr, n_va = int(0.7 * n), int(0.15 * n)
    return {"points": points, "lam": tlm_gauge(points), "label": tlm_labels(points),
            "status": np.array(["tlm"] * n), "idx_train": np.sort(perm[:n_tr]),
            "idx_val": np.sort(perm[n_tr:n_tr + n_va]), "idx_test": np.sort(perm[n_tr + n_va:])}
