"""Gauge models: kernel ridge regression of the quantum gauge on the chart of ray directions.

Physics: ``lam(p) = max{lam : lam p in Q}`` (Q = TLM in 4-D, an NPA level in 8-D) is
positively homogeneous, so it is learnt on one point per ray: the crossing ``q`` of the ray
with the canonical CHSH facet after the relabelling group has been quotiented out
(:mod:`chshml.models.gauge_features`). What is known exactly is used exactly: rays that leave
the local polytope through an NS facet have ``lam = lam_NS``; elsewhere the prediction is
clipped to ``1 <= lam(q) <= lam_NS(q)`` (L inside Q inside NS). The curved part of the
boundary is a Gaussian-kernel ridge regression (plus a quadratic mean) fitted on rays whose
boundary point is not on an NS facet. The regression targets:
``contact`` (the 4-D default) learns, for every NS facet the rays leave through, the contact
coordinate ``s_k = sqrt(1 - lam r_k)`` (:mod:`chshml.models.gauge_features`), smooth where
``lam`` bends sharply into the facet, and predicts from the facet each ray leaves NS through;
``lam`` learns ``lam(q)`` itself, with a second "floor" fit against dips below NS;
``amplitude`` (8-D) refines the contact prediction with a level-set fit of Q's boundary over
the 16 amplitudes ``sqrt(p(ab|xy))`` of a point (nearly flat in them where ``lam`` is not,
:func:`chshml.models.gauge_features.amplitudes`): ``F(x) ~ lam_true(x)^-1 - 1`` learnt on
points a little inside and outside the boundary along each curved training ray, and
``lam <- lam / (1 + F(lam q))`` iterated from the contact estimate; ``auto`` is ``contact``
in 4-D and ``amplitude`` in 8-D. ``face`` (8-D) is no regression: it keeps the two-qubit
atoms of Q's faces (:mod:`chshml.models.faces`). A point is called quantum iff its predicted
gauge is >= 1.
The validation split calibrates an error band (a quantile of the relative error), which
``chshml predict --certify`` uses to route doubtful points to the certified NPA labeller.

Models are saved as ``.npz`` (plain arrays, no pickle) with the usual ``MODEL.json``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from chshml.errors import InputError
from chshml.geometry import CORR_DIM, FULL_DIM, NS_FACET_RTOL, space_of_dim, tlm_gauge
from chshml.models.classifier import Classifier
from chshml.models.gauge_features import (
    amplitudes,
    contact_coordinates,
    exit_representative,
    facet_point_gauge,
    facet_rates,
    gauge_from_contact,
    ray_chart,
)

if TYPE_CHECKING:
    from chshml.models.faces import FaceModel

#: Gauge references: exact TLM (4-D only) or an NPA level (the dataset's ``lam``).
REFERENCES = ("tlm", "1", "1+AB", "2", "3", "4", "auto")
#: Regression targets: contact coordinates per NS facet, the facet-point gauge itself, contact
#: refined by the amplitude level set, or ``auto`` (contact in 4-D, amplitude in 8-D); ``face``
#: is not a regression but Q's faces from two-qubit atoms (8-D, :mod:`chshml.models.faces`).
TARGETS = ("auto", "contact", "lam", "amplitude", "face")
#: Largest kernel system solved at once: multithreaded OpenBLAS 0.3.31 Cholesky crashed
#: (segfault) at n = 16000 on AMD EPYC; 14000 and 15000 passed.
MAX_KERNEL_ROWS = 12000
#: Shifts at which the validation metadata gives the expected spread accuracy of curved rays.
EXPECTED_SPREAD_SIGMAS = (1e-2, 1e-3, 1e-4)
#: Kernel rows per block (memory ~2 * block * n_centres floats). Blocks of 2048 rows spent
#: more time in page faults of fresh 200 MB arrays than in ``exp``; 256 rows run 2-3x faster
#: with the same values (benchmarks/memory_first_touch.py).
BLOCK = 256

@dataclass
class GaugeConfig:
    """Settings of a gauge model (``--set KEY=VALUE`` or the config's ``models: gauge:``).

    ``ell``/``alpha``: grids of RBF length scale (facet-point coordinates) and ridge;
    chosen on the validation rays with at most ``select_max`` training rays, then refitted
    on at most ``max_train`` rays. ``band_quantile``: quantile of the validation relative
    error used as the error band. ``target``: see :data:`TARGETS` and the module docstring.
    ``level_*`` (target ``amplitude``): grids of length scale (amplitude units) and ridge of
    the level-set fit, chosen with at most ``select_max`` rays; ``level_max_train`` rays in
    the final fit (one point each, radially offset from the boundary point uniformly within
    ``level_width``); ``level_iterations`` refinement steps at prediction; ``level_cells``:
    at most this many local level fits (k-means cells over amplitudes, each on its own rays
    and those within ``level_cell_margin`` times their own centre's distance), as many as
    the curved training rays fill with ``level_max_train`` each (1: one global fit).
    ``face_max_train`` (target ``face``): training rays whose face atoms the model keeps.
    ``clipped``: with target ``lam``, also fit rays whose boundary point lies on an NS facet
    (target ``lam_NS``) in a second "floor" fit, so that the prediction cannot dip far below
    NS where Q's boundary runs along an NS facet; with ``contact`` those rays are validation
    data only (their contact coordinate is the fit's own continuation past zero).
    """

    reference: str = "auto"
    target: str = "auto"
    ell: list[float] = field(default_factory=lambda: [0.2, 0.35, 0.6])
    alpha: list[float] = field(default_factory=lambda: [1e-10, 1e-8])
    max_train: int = 5000
    select_max: int = 2000
    band_quantile: float = 0.99
    seed: int = 0
    clipped: bool = True
    level_ell: list[float] = field(default_factory=lambda: [1.0, 1.5])
    level_alpha: list[float] = field(default_factory=lambda: [1e-8, 1e-7])
    level_max_train: int = 12000
    level_width: float = 0.003
    level_iterations: int = 4
    level_cells: int = 1
    level_cell_margin: float = 1.15
    face_max_train: int = 4000

    @classmethod
    def from_dict(cls, d: dict | None) -> GaugeConfig:
        """Validated settings; a bad key or value is a ValueError naming it."""
        d = dict(d or {})
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise ValueError(f"unknown gauge config keys: {unknown} (known: "
                             f"{', '.join(known)})")
        cfg = cls(**d)
        ref = str(cfg.reference).upper()
        cfg.reference = {"TLM": "tlm", "AUTO": "auto"}.get(ref, ref)
        if cfg.reference not in REFERENCES:
            raise ValueError(f"gauge reference: one of {list(REFERENCES)}, "
                             f"got {d.get('reference')!r}")
        if cfg.target not in TARGETS:
            raise ValueError(f"gauge target: one of {list(TARGETS)}, got {cfg.target!r}")
        for key in ("ell", "alpha", "level_ell", "level_alpha"):
            v = getattr(cfg, key)
            v = v if isinstance(v, list) else [v]
            if not v or not all(isinstance(x, (int, float)) and x > 0 for x in v):
                raise ValueError(f"gauge {key}: a number > 0 or a non-empty list of them")
            setattr(cfg, key, [float(x) for x in v])
        for key in ("max_train", "select_max", "level_max_train", "face_max_train"):
            if not isinstance(getattr(cfg, key), int) or getattr(cfg, key) < 10:
                raise ValueError(f"gauge {key}: an integer >= 10")
        if max(cfg.max_train, cfg.level_max_train) > MAX_KERNEL_ROWS:
            raise ValueError(f"gauge max_train and level_max_train: at most "
                             f"{MAX_KERNEL_ROWS} kernel rows in one fit")
        if not isinstance(cfg.level_iterations, int) or not 1 <= cfg.level_iterations <= 20:
            raise ValueError("gauge level_iterations: an integer in [1, 20]")
        if not isinstance(cfg.level_cells, int) or not 1 <= cfg.level_cells <= 16:
            raise ValueError("gauge level_cells: an integer in [1, 16]")
        if not 1.0 <= cfg.level_cell_margin <= 2.0:
            raise ValueError("gauge level_cell_margin: a number in [1, 2]")
        if not 0 < cfg.level_width < 0.5:
            raise ValueError("gauge level_width: a number in (0, 0.5)")
        if not 0 < cfg.band_quantile <= 1:
            raise ValueError("gauge band_quantile: a number in (0, 1]")
        return cfg


# ---------------------------------------------------------------------------
# The regression: quadratic mean + Gaussian kernel ridge
# ---------------------------------------------------------------------------

def _poly2(x: np.ndarray) -> np.ndarray:
    """Design matrix of a full quadratic polynomial in the columns of ``x``."""
    n, d = x.shape
    iu, ju = np.triu_indices(d)
    return np.column_stack([np.ones(n), x, x[:, iu] * x[:, ju]])


def _kernel(a: np.ndarray, b: np.ndarray, ell: float) -> np.ndarray:
    """``exp(-|a_i - b_j|^2 / 2 ell^2)``, computed in place (two ``len(a) x len(b)`` arrays)."""
    sq = np.add((a * a).sum(1)[:, None], (b * b).sum(1)[None, :])
    two_ab = a @ b.T
    two_ab *= 2.0
    sq -= two_ab
    del two_ab
    np.maximum(sq, 0.0, out=sq)
    np.negative(sq, out=sq)
    sq /= 2.0 * ell * ell
    return np.exp(sq, out=sq)


def _gram(x: np.ndarray, ell: float) -> np.ndarray:
    """``_kernel(x, x, ell)`` as one Fortran-ordered array, filled in row blocks.

    LAPACK factorises it in place: no copy of the ``n x n`` matrix and no full-size
    temporaries, the bulk of the cost at n = 12000 where first-touched memory is slow.
    """
    k = np.empty((len(x), len(x)), order="F")
    for s in range(0, len(x), BLOCK):
        k[s:s + BLOCK] = _kernel(x[s:s + BLOCK], x, ell)
    return k


@dataclass
class KernelFit:
    """``f(x) = poly2(x) . c + sum_i a_i exp(-|x - x_i|^2 / 2 ell^2)``; with 2-D ``y`` (one
    column per output) the same kernel fits every column at once.
    """

    centres: np.ndarray
    coef: np.ndarray
    poly: np.ndarray
    ell: float
    alpha: float

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, ell: float, alpha: float) -> KernelFit:
        """Least-squares quadratic, then kernel ridge on its residuals (Cholesky)."""
        import scipy.linalg as sla

        poly = np.linalg.lstsq(_poly2(x), y, rcond=None)[0]
        resid = y - _poly2(x) @ poly
        k = _gram(x, ell)
        k[np.diag_indices_from(k)] += alpha
        try:
            coef = sla.cho_solve(sla.cho_factor(k, overwrite_a=True), resid)
        except np.linalg.LinAlgError:
            coef = np.linalg.lstsq(_kernel(x, x, ell) + alpha * np.eye(len(x)), resid,
                                   rcond=None)[0]
        return cls(x, coef, poly, float(ell), float(alpha))

    def __call__(self, z: np.ndarray) -> np.ndarray:
        out = np.empty((len(z), *self.coef.shape[1:]))
        for s in range(0, len(z), BLOCK):
            zz = z[s:s + BLOCK]
            out[s:s + BLOCK] = (_poly2(zz) @ self.poly
                                + _kernel(zz, self.centres, self.ell) @ self.coef)
        return out


@dataclass
class LevelCells:
    """Local experts of the amplitude level set: one :class:`KernelFit` per k-means cell;
    a point takes the fit of its nearest cell centre.

    One global fit is capped at :data:`MAX_KERNEL_ROWS` rows and Q's boundary needs more
    (docs/gauge-models.md): cells spend those rows on a part of the boundary each, and a
    prediction still costs one fit's kernel row.
    """

    centres: np.ndarray
    fits: list[KernelFit]

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, ell: float, alpha: float, cells: int,
            margin: float, rows: int, seed: int) -> KernelFit | LevelCells:
        """At most ``cells`` cells of at least ``rows`` points each (one cell: one fit)."""
        k = max(1, min(cells, len(x) // rows))
        if k == 1:
            return KernelFit.fit(x[:rows], y[:rows], ell, alpha)
        from sklearn.cluster import KMeans

        km = KMeans(k, n_init=4, random_state=seed).fit(x)
        dist = km.transform(x)
        near = dist <= margin * dist.min(axis=1, keepdims=True)
        fits = [KernelFit.fit(x[near[:, c]][:rows], y[near[:, c]][:rows], ell, alpha)
                for c in range(k)]
        return cls(np.asarray(km.cluster_centers_, dtype=float), fits)

    def cell(self, z: np.ndarray) -> np.ndarray:
        """Index of the nearest centre of each row of ``z``."""
        return np.argmin(((z[:, None, :] - self.centres[None]) ** 2).sum(-1), axis=1)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        cell, out = self.cell(z), np.empty(len(z))
        for c, fit in enumerate(self.fits):
            if np.any(cell == c):
                out[cell == c] = fit(z[cell == c])
        return out


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------

class GaugeModel:
    """Predicted gauge of any behaviour; exact on NS rays, regression on curved rays.

    ``target`` ``lam``: ``fit`` predicts ``lam(q)`` (with an optional ``floor`` fit).
    ``target`` ``contact``: ``fit`` predicts one contact coordinate per NS facet listed in
    ``facets`` (the facets training rays left NS through).
    ``target`` ``amplitude``: as ``contact``, then ``level`` (a function of the amplitudes of
    a point, ``~ 1 / lam_true - 1`` near Q's boundary) refines it ``iterations`` times.
    """

    def __init__(self, dim: int, fit: KernelFit, band: float, floor: KernelFit | None = None,
                 floor_margin: float = 0.0, target: str = "lam",
                 facets: np.ndarray | None = None,
                 level: KernelFit | LevelCells | None = None,
                 iterations: int = 0) -> None:
        self.dim = dim
        self.fit = fit
        self.band = float(band)
        self.floor = floor
        self.floor_margin = float(floor_margin)
        self.target = target
        self.facets = np.zeros(0, dtype=np.int64) if facets is None else np.asarray(facets)
        self.level = level
        self.iterations = int(iterations)

    def facet_gauge(self, q: np.ndarray, lam_ns_q: np.ndarray) -> np.ndarray:
        """``lam(q)`` of canonical facet points, clipped to ``[1, lam_NS(q)]``.

        Target ``lam``: the curved-part fit, floored by the fit that also saw NS-facet rays
        (minus its margin). Target ``contact``: the contact coordinate of the NS facet the ray
        leaves through (of the nearest learnt facet if that one was never seen), inverted.
        Target ``amplitude``: the contact estimate, then ``lam <- lam / (1 + level(lam q))``.
        """
        if len(q) == 0:
            return np.zeros(0)
        if self.target in ("contact", "amplitude"):
            rates = facet_rates(q)
            learnt = rates[:, self.facets]
            col = np.argmax(learnt, axis=1)
            exit_ = np.argmax(rates, axis=1)
            seen = self.facets[None, :] == exit_[:, None]
            col = np.where(seen.any(axis=1), np.argmax(seen, axis=1), col)
            rows = np.arange(len(q))
            s = self.fit(q)[rows, col]
            lam = gauge_from_contact(s, learnt[rows, col])
            if self.level is not None:  # rays the contact fit puts on an NS facet stay there
                lam = np.clip(lam, 1.0, lam_ns_q)
                curved = s > 0
                lam[curved] = self.refine(q[curved], lam[curved], lam_ns_q[curved])
        else:
            lam = self.fit(q)
            if self.floor is not None:
                lam = np.maximum(lam, self.floor(q) - self.floor_margin)
        return np.clip(lam, 1.0, lam_ns_q)

    def refine(self, q: np.ndarray, lam: np.ndarray, lam_ns_q: np.ndarray) -> np.ndarray:
        """Fixed-point steps towards the zero of the amplitude level set along each ray.

        ``level(x) ~ lam_true(x)^-1 - 1`` near the boundary, so ``lam / (1 + level(lam q))``
        is the boundary's estimate seen from the point ``lam q``; capped at ``lam_NS``.
        The level set is learnt on :func:`exit_representative` points.
        """
        assert self.level is not None
        rep = exit_representative(q)
        for _ in range(self.iterations):
            level = self.level(amplitudes(lam[:, None] * rep))
            # the floor only guards the division far outside the fitted band (|F| ~ 1e-2)
            lam = np.minimum(lam / (1.0 + np.maximum(level, -0.5)), lam_ns_q)
        return lam

    def gauge(self, points: np.ndarray) -> np.ndarray:
        """Predicted ``lam(p)`` (``inf`` at the origin): a point is quantum iff it is >= 1."""
        chart = ray_chart(points, self.dim)
        lam = chart.lam_ns.copy()
        lam[chart.curved] = self.facet_gauge(chart.q, chart.lam_ns_q) / chart.scale
        return lam

    def save(self, path: str | Path, meta: dict, inputs: tuple = ()) -> None:
        """Arrays to ``.npz`` and ``MODEL.json`` beside it, as one unit."""
        from chshml.models.metadata import save_npz_with_meta

        arrays = {"dim": np.array(self.dim), "centres": self.fit.centres,
                  "coef": self.fit.coef, "poly": self.fit.poly, "ell": np.array(self.fit.ell),
                  "alpha": np.array(self.fit.alpha), "band": np.array(self.band),
                  "target": np.array(self.target), "facets": self.facets}
        if self.level is not None:
            # cells: their fits' arrays stacked, cut apart again by the cell sizes
            fits = self.level.fits if isinstance(self.level, LevelCells) else [self.level]
            arrays.update({"level_centres": np.concatenate([f.centres for f in fits]),
                           "level_coef": np.concatenate([f.coef for f in fits]),
                           "level_poly": (np.stack([f.poly for f in fits])
                                          if isinstance(self.level, LevelCells) else fits[0].poly),
                           "level_ell": np.array(fits[0].ell),
                           "level_alpha": np.array(fits[0].alpha),
                           "iterations": np.array(self.iterations)})
            if isinstance(self.level, LevelCells):
                arrays.update({"level_cell_centres": self.level.centres,
                               "level_cell_sizes": np.array([len(f.centres) for f in fits])})
        if self.floor is not None:
            arrays.update({"floor_centres": self.floor.centres, "floor_coef": self.floor.coef,
                           "floor_poly": self.floor.poly,
                           "floor_margin": np.array(self.floor_margin)})
        save_npz_with_meta(path, meta, arrays, inputs)

    @classmethod
    def load(cls, path: str | Path) -> GaugeModel:
        """A model saved by :meth:`save` (no pickled objects are read)."""
        with np.load(path, allow_pickle=False) as z:
            fit = KernelFit(z["centres"], z["coef"], z["poly"], float(z["ell"]),
                            float(z["alpha"]))
            floor = None
            if "floor_centres" in z:
                floor = KernelFit(z["floor_centres"], z["floor_coef"], z["floor_poly"],
                                  float(z["ell"]), float(z["alpha"]))
            target = str(z["target"]) if "target" in z else "lam"
            facets = np.asarray(z["facets"], dtype=np.int64) if "facets" in z else None
            level, iterations = None, 0
            if "level_centres" in z:
                lv_ell, lv_alpha = float(z["level_ell"]), float(z["level_alpha"])
                level = KernelFit(z["level_centres"], z["level_coef"], z["level_poly"],
                                  lv_ell, lv_alpha)
                if "level_cell_centres" in z:
                    cut = np.cumsum(z["level_cell_sizes"])[:-1]
                    level = LevelCells(z["level_cell_centres"], [
                        KernelFit(c, a, p, lv_ell, lv_alpha) for c, a, p in zip(
                            np.split(z["level_centres"], cut), np.split(z["level_coef"], cut),
                            z["level_poly"], strict=True)])
                iterations = int(z["iterations"])
            return cls(int(z["dim"]), fit, float(z["band"]), floor,
                       float(z["floor_margin"]) if "floor_margin" in z else 0.0,
                       target, facets, level, iterations)


class GaugeClassifier(Classifier):
    """A :class:`Classifier` whose labels come from a predicted gauge (``lam >= 1``)."""

    def __init__(self, model: GaugeModel | FaceModel, meta: dict,
                 path: Path | None = None) -> None:
        super().__init__(lambda x: model.gauge(x) >= 1.0, meta, model, path)
        self.gauge_model = model

    def _inputs(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=float)
        if points.ndim != 2 or points.shape[1] not in (CORR_DIM, FULL_DIM):
            raise InputError(f"points must be n x 4 or n x 8, got shape {points.shape}")
        if self.dim == CORR_DIM and points.shape[1] == FULL_DIM:
            if np.any(points[:, :4] != 0):
                row = int(np.flatnonzero(np.any(points[:, :4] != 0, axis=1))[0])
                raise InputError(f"row {row}: a correlation-space (corr4) model needs "
                                 "zero marginals")
        return points

    def predict_gauge(self, points: np.ndarray) -> np.ndarray:
        """Predicted gauge of 4-D or 8-D behaviours."""
        points = self._inputs(points)
        if len(points) == 0:
            return np.zeros(0)
        return self.gauge_model.gauge(points)

    def predict(self, points: np.ndarray) -> np.ndarray:
        """Labels: 1 where the predicted gauge is >= 1 (quantum), else 0."""
        return (self.predict_gauge(points) >= 1.0).astype(np.int8)

    def predict_raw(self, x: np.ndarray) -> np.ndarray:
        return self.predict(x)


def load_gauge(path: str | Path, meta: dict) -> GaugeClassifier:
    """Load a ``.npz`` gauge model (a face model if it holds face atoms) with its metadata."""
    from chshml.models.faces import FaceModel, is_face_file

    model = FaceModel.load(path) if is_face_file(path) else GaugeModel.load(path)
    return GaugeClassifier(model, meta, Path(path))


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------

@dataclass
class GaugeData:
    """Curved rays of a dataset: facet points ``q``, their gauge and NS gauge, and a split."""

    q: np.ndarray
    lam_q: np.ndarray
    lam_ns_q: np.ndarray
    is_train: np.ndarray
    counts: dict
    on_ns: np.ndarray | None = None

    @property
    def on_ns_facet(self) -> np.ndarray:
        """True for rays whose boundary point lies on an NS facet (``lam = lam_NS``)."""
        return self.on_ns if self.on_ns is not None else np.zeros(len(self.q), bool)


def gauge_training_data(points: np.ndarray, lam: np.ndarray, dim: int,
                        split: np.ndarray | None, rng: np.random.Generator,
                        clipped: bool = True) -> GaugeData:
    """Rays leaving L through a CHSH facet: those whose boundary point is off the NS boundary
    (the curved part), and with ``clipped`` also those on an NS facet (target ``lam_NS``).

    ``split``: True for training rows (else validation); None draws a random 85/15 split.
    """
    chart = ray_chart(points, dim)
    lam_q = facet_point_gauge(chart, lam)
    usable = np.isfinite(lam_q) & (lam_q > 0)
    curved = usable & (lam_q < chart.lam_ns_q * (1 - NS_FACET_RTOL))
    if split is None:
        split = rng.random(len(points)) < 0.85
    is_train = np.asarray(split, dtype=bool)[chart.curved]
    counts = {"points": int(len(points)), "ns_rays": int(np.sum(~chart.curved)),
              "chsh_rays": int(np.sum(chart.curved)),
              "on_ns_facet": int(np.sum(usable & ~curved)),
              "unusable_gauge": int(np.sum(~usable)), "curved_rays": int(np.sum(curved))}
    keep = usable if clipped else curved
    target = np.where(curved, lam_q, chart.lam_ns_q)
    return GaugeData(chart.q[keep], target[keep], chart.lam_ns_q[keep], is_train[keep], counts,
                     ~curved[keep])


def _relative_errors(fit: KernelFit, q: np.ndarray, lam_q: np.ndarray,
                     lam_ns_q: np.ndarray) -> np.ndarray:
    pred = np.clip(fit(q), 1.0, lam_ns_q)
    return np.abs(pred / lam_q - 1.0)


def _model_errors(model: GaugeModel, q: np.ndarray, lam_q: np.ndarray,
                  lam_ns_q: np.ndarray) -> np.ndarray:
    """Relative errors ``|lam_pred / lam - 1|`` of a whole model on facet points."""
    return np.abs(model.facet_gauge(q, lam_ns_q) / lam_q - 1.0)


def _grid_search(x: np.ndarray, y: np.ndarray, errors, cfg: GaugeConfig,
                 stage: str = "contact", n_select: int | None = None
                 ) -> tuple[list[dict], dict]:
    """Fit every (ell, alpha) of a grid on the first ``n_select`` (``select_max``) rows of
    ``(x, y)``; ``errors(fit)`` gives its validation relative errors. (grid rows, best row by
    mean). ``stage`` ``level`` takes the ``level_*`` grids.
    """
    grid: list[dict] = []
    best: dict | None = None
    sub = slice(0, cfg.select_max if n_select is None else n_select)
    ells, alphas = (cfg.level_ell, cfg.level_alpha) if stage == "level" else (cfg.ell, cfg.alpha)
    for ell in ells:
        for alpha in alphas:
            t = time.process_time()
            err = errors(KernelFit.fit(x[sub], y[sub], ell, alpha))
            row = {"stage": stage, "ell": ell, "alpha": alpha,
                   "val_median_rel_err": float(np.median(err)),
                   "val_mean_rel_err": float(np.mean(err)), "cpu_seconds": time.process_time() - t}
            grid.append(row)
            if best is None or row["val_mean_rel_err"] < best["val_mean_rel_err"]:
                best = row
    assert best is not None  # the config validation guarantees a non-empty grid
    return grid, best


def _too_few(n_train: int, n_val: int) -> None:
    if n_train < 10 or n_val < 1:
        raise InputError(f"only {n_train} training and {n_val} validation rays through "
                         "a CHSH facet off the NS boundary: need more directions")


def _fit_lam(data: GaugeData, cfg: GaugeConfig, dim: int
             ) -> tuple[GaugeModel, list[dict], dict, np.ndarray]:
    """Target ``lam``: the curved-part fit and its floor; (model, grid, best, validation
    rows: the curved ones).
    """
    on_ns = data.on_ns_facet
    clip_tr = data.is_train & on_ns
    x_tr, y_tr = data.q[data.is_train & ~on_ns], data.lam_q[data.is_train & ~on_ns]
    va = ~data.is_train & ~on_ns
    x_va, y_va, ns_va = data.q[va], data.lam_q[va], data.lam_ns_q[va]
    _too_few(len(x_tr), len(x_va))
    grid, best = _grid_search(x_tr, y_tr, lambda f: _relative_errors(f, x_va, y_va, ns_va),
                              cfg)
    fit = KernelFit.fit(x_tr[:cfg.max_train], y_tr[:cfg.max_train], best["ell"],
                        best["alpha"])
    floor, floor_tau = None, 0.0
    if cfg.clipped and clip_tr.any():
        # second fit on curved and NS-facet rays (lam = lam_NS there): its value minus a
        # calibrated margin is a floor, so the curved fit cannot dip far below lam_NS where
        # the boundary runs along an NS facet (its own accuracy is poorer near the contact)
        both = data.is_train
        floor = KernelFit.fit(data.q[both][:cfg.max_train], data.lam_q[both][:cfg.max_train],
                              best["ell"], best["alpha"])
        over = floor(x_va) - y_va
        floor_tau = float(max(np.quantile(over, 0.999), 0.0) + 1e-6)
    return GaugeModel(dim, fit, 0.0, floor, floor_tau), grid, best, va


def _fit_contact(data: GaugeData, cfg: GaugeConfig, dim: int
                 ) -> tuple[GaugeModel, list[dict], dict, np.ndarray]:
    """Target ``contact``: one contact coordinate per NS facet the training rays leave NS
    through, fitted on curved rays; validated on every ray, NS-facet rays included.
    """
    rates = facet_rates(data.q)
    facets = np.unique(np.argmax(rates[data.is_train], axis=1))
    targets = contact_coordinates(data.lam_q, rates[:, facets])
    rows = data.is_train & ~data.on_ns_facet
    x_tr, s_tr = data.q[rows], targets[rows]
    va = ~data.is_train
    x_va, y_va, ns_va = data.q[va], data.lam_q[va], data.lam_ns_q[va]
    _too_few(len(x_tr), len(x_va))

    def model_of(fit: KernelFit) -> GaugeModel:
        return GaugeModel(dim, fit, 0.0, target="contact", facets=facets)

    grid, best = _grid_search(
        x_tr, s_tr, lambda f: _model_errors(model_of(f), x_va, y_va, ns_va), cfg)
    fit = KernelFit.fit(x_tr[:cfg.max_train], s_tr[:cfg.max_train], best["ell"],
                        best["alpha"])
    return model_of(fit), grid, best, va


def _level_points(q: np.ndarray, lam_q: np.ndarray, lam_ns_q: np.ndarray, width: float,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Amplitudes and targets of the level-set fit: one point ``mu q`` per ray (``q`` turned
    to its :func:`exit_representative`), ``mu = lam (1 + U(-width, width))`` capped at
    ``lam_NS``, with target ``mu / lam - 1`` (the gauge of ``mu q``, read as ``1/lam``, minus
    one). One point per ray beat a boundary point plus an offset for the same kernel rows.
    """
    mu = np.minimum(lam_q * (1.0 + rng.uniform(-width, width, len(q))), lam_ns_q)
    return amplitudes(mu[:, None] * exit_representative(q)), mu / lam_q - 1.0


def _fit_amplitude(data: GaugeData, cfg: GaugeConfig, dim: int
                   ) -> tuple[GaugeModel, list[dict], dict, np.ndarray]:
    """Target ``amplitude``: the contact model, refined by a level-set fit over the
    amplitudes of points radially offset from the curved training rays' boundary points.
    """
    if dim != FULL_DIM:
        raise InputError("gauge target amplitude needs 8-D behaviours (amplitudes of "
                         "p(ab|xy)); use contact in 4-D")
    contact, grid, best, va = _fit_contact(data, cfg, dim)
    rows = data.is_train & ~data.on_ns_facet
    rng = np.random.default_rng([cfg.seed, 14])
    n = min(int(rows.sum()), cfg.level_max_train * cfg.level_cells)
    x_lv, y_lv = _level_points(data.q[rows][:n], data.lam_q[rows][:n],
                               data.lam_ns_q[rows][:n], cfg.level_width, rng)
    x_va, y_va, ns_va = data.q[va], data.lam_q[va], data.lam_ns_q[va]

    def model_of(level: KernelFit | LevelCells) -> GaugeModel:
        return GaugeModel(dim, contact.fit, 0.0, target="amplitude", facets=contact.facets,
                          level=level, iterations=cfg.level_iterations)

    level_grid, level_best = _grid_search(
        x_lv, y_lv, lambda f: _model_errors(model_of(f), x_va, y_va, ns_va), cfg,
        "level", 2 * cfg.select_max)  # the level fit needs more rows to rank its grid
    level = LevelCells.fit(x_lv, y_lv, level_best["ell"], level_best["alpha"], cfg.level_cells,
                           cfg.level_cell_margin, cfg.level_max_train, cfg.seed)
    best = {**best, "level_ell": level_best["ell"], "level_alpha": level_best["alpha"]}
    return model_of(level), grid + level_grid, best, va


def resolved_target(target: str, dim: int) -> str:
    """``auto`` is ``contact`` in 4-D and ``amplitude`` in 8-D; other targets stay."""
    if target != "auto":
        return target
    return "contact" if dim == CORR_DIM else "amplitude"


def fit_gauge(data: GaugeData, cfg: GaugeConfig) -> tuple[GaugeModel, dict]:
    """Choose (ell, alpha) on validation rays, refit on at most ``max_train`` rays,
    calibrate the band; (model, meta).
    """
    from chshml.evaluation.spread import expected_spread_accuracy

    dim = CORR_DIM if data.q.shape[1] == CORR_DIM else FULL_DIM
    t0 = time.process_time()
    target = resolved_target(cfg.target, dim)
    fitter = {"contact": _fit_contact, "lam": _fit_lam, "amplitude": _fit_amplitude}[target]
    model, grid, best, va = fitter(data, cfg, dim)
    fit_s = time.process_time() - t0 - sum(row["cpu_seconds"] for row in grid)
    err = _model_errors(model, data.q[va], data.lam_q[va], data.lam_ns_q[va])
    band = float(np.quantile(err, cfg.band_quantile))
    model.band = band
    on_ns_va = data.on_ns_facet[va]
    meta = {
        "kind": "gauge", "config": asdict(cfg), "target": target, "grid": grid,
        "chosen": {k: v for k, v in best.items() if k in ("ell", "alpha", "level_ell",
                                                           "level_alpha")},
        "validation": {"n": int(len(err)), "median_rel_err": float(np.median(err)),
                       "mean_rel_err": float(np.mean(err)),
                       "p90_rel_err": float(np.quantile(err, 0.9)),
                       "max_rel_err": float(np.max(err)), "band": band,
                       "band_quantile": cfg.band_quantile,
                       "n_on_ns_facet": int(on_ns_va.sum()),
                       "curved_mean_rel_err": _mean(err[~on_ns_va]),
                       "on_ns_facet_mean_rel_err": _mean(err[on_ns_va]),
                       "curved_expected_spread_accuracy": {
                           f"{sigma:g}": expected_spread_accuracy(err[~on_ns_va], sigma)
                           for sigma in EXPECTED_SPREAD_SIGMAS}},
        "n_centres": int(len(model.fit.centres)), "rays": data.counts,
        "n_level_centres": _level_rows(model.level),
        "level_cells": len(model.level.fits) if isinstance(model.level, LevelCells) else 1,
        "floor_margin": model.floor_margin, "facets": [int(k) for k in model.facets],
        "timings": {"select_cpu_seconds": sum(row["cpu_seconds"] for row in grid),
                    "fit_cpu_seconds": fit_s},
    }
    return model, meta


def _level_rows(level: KernelFit | LevelCells | None) -> int:
    if level is None:
        return 0
    fits = level.fits if isinstance(level, LevelCells) else [level]
    return int(sum(len(f.centres) for f in fits))


def _mean(x: np.ndarray) -> float | None:
    return float(np.mean(x)) if len(x) else None


def certified_gauge(data: dict) -> np.ndarray:
    """A labelled dataset's ``lam``, NaN where its certified bracket ``[lam_lo, lam_hi]`` (if
    stored) is wider than 1e-6 relative: the gauges a model may learn from.
    """
    lam = np.asarray(data["lam"], dtype=float).ravel()
    if "lam_lo" in data and "lam_hi" in data:
        width = np.asarray(data["lam_hi"], float) - np.asarray(data["lam_lo"], float)
        with np.errstate(invalid="ignore"):
            lam = np.where(width <= 1e-6 * np.maximum(1.0, np.abs(lam)), lam, np.nan)
    return lam


def train_gauge(data_path: str | Path, out: str | Path, config: dict | None = None,
                inputs: tuple = ()) -> dict:
    """``chshml train gauge``: read rays and gauges from a dataset, fit, save; the metadata.

    The dataset's points are rays (any points with a gauge will do: ``method: directions``
    is the natural source). ``reference=tlm`` (4-D) recomputes every gauge exactly by TLM
    bisection; an NPA reference must equal the dataset's labelling level, whose certified
    ``lam`` (bracket narrower than 1e-6 relative) is the target.
    """
    from chshml.models.metadata import model_meta_path
    from chshml.store import (
        MODEL_PACKAGES,
        attr_to_json,
        check_output,
        package_versions,
        read_input_h5,
        validate_points,
    )

    cfg = GaugeConfig.from_dict(config)
    out = Path(out)
    if out.suffix != ".npz":
        raise InputError(f"-o {out}: a gauge model is saved as .npz")
    inputs = (data_path, *inputs)
    check_output(out, inputs)
    check_output(model_meta_path(out), inputs, "-o (metadata JSON)")
    t0 = time.process_time()
    data, attrs = read_input_h5(data_path, "dataset")
    if "points" not in data:
        raise InputError(f"{data_path}: no dataset 'points'")
    points = validate_points(data["points"], str(data_path), check_ns=True)
    dim = points.shape[1]
    level = attrs.get("level")
    level = None if level is None else str(attr_to_json(level))
    reference = cfg.reference
    if reference == "auto":
        reference = "tlm" if dim == CORR_DIM else (level or "")
    if reference == "tlm":
        if dim != CORR_DIM:
            raise InputError("gauge reference tlm is exact only in 4-D (corr4); in 8-D use "
                             "an NPA level (the dataset's)")
        lam = tlm_gauge(points)
        source = "exact TLM gauge (bisection)"
    else:
        if "lam" not in data:
            raise InputError(f"{data_path}: no 'lam' (label the dataset at level {reference})")
        if level is not None and level != reference:
            raise InputError(f"{data_path}: labelled at level {level}, not the reference "
                             f"{reference} (--set reference=...)")
        lam = certified_gauge(data)
        source = f"NPA level {reference} gauges of the dataset"
    if "idx_train" in data and "idx_test" in data:
        split = np.zeros(len(points), bool)
        split[np.asarray(data["idx_train"], int)] = True
    else:  # a random 85/15 split, as gauge_training_data draws it
        split = np.random.default_rng(cfg.seed).random(len(points)) < 0.85
    model: GaugeModel | FaceModel
    if cfg.target == "face":
        model, meta = _fit_faces(data, points, lam, split, cfg, reference)
        n_used = meta["n_atoms"]
    else:
        gdata = gauge_training_data(points, lam, dim, split, np.random.default_rng(cfg.seed),
                                    cfg.clipped or cfg.target != "lam")
        model, meta = fit_gauge(gdata, cfg)
        n_used = int(len(model.fit.centres))
    meta.update({
        "reference": reference, "truth": source,
        "dataset": str(attrs.get("dataset", Path(data_path).stem)), "data_file": str(data_path),
        "space": space_of_dim(dim), "dim": dim, "domain": "rays (canonical CHSH facet chart)",
        "data_attrs": {k: attr_to_json(v) for k, v in attrs.items()
                       if not str(k).startswith("certificate_")},
        "n_train_used": n_used, "n_val_used": meta["validation"]["n"],
        "package_versions": package_versions(MODEL_PACKAGES),
    })
    meta["timings"]["total_cpu_seconds"] = time.process_time() - t0
    meta["timings"]["total_seconds"] = meta["timings"]["total_cpu_seconds"]
    model.save(out, meta, inputs)
    return meta


def _fit_faces(data: dict, points: np.ndarray, lam: np.ndarray, split: np.ndarray,
               cfg: GaugeConfig, reference: str) -> tuple[FaceModel, dict]:
    """Target ``face``: atoms of Q's faces from the dataset's witnesses (8-D, NPA level)."""
    from chshml.models.faces import fit_faces

    if points.shape[1] != FULL_DIM or reference == "tlm":
        raise InputError("gauge target face: 8-D rays labelled at an NPA level (their "
                         "witnesses give the face atoms)")
    if "witness_beta" not in data:
        raise InputError("gauge target face: the dataset has no 'witness_beta' (label it "
                         "with chshml label)")
    try:
        model, meta = fit_faces(points, lam, data["witness_beta"], split, cfg.face_max_train,
                                cfg.band_quantile, EXPECTED_SPREAD_SIGMAS, cfg.seed,
                                progress=True)
    except ValueError as err:
        raise InputError(f"gauge target face: {err}") from None
    meta["config"] = asdict(cfg)
    return model, meta


def settings_errors(values: dict) -> list[str]:
    """One line per bad gauge setting (for ``chshml train`` before any data is read)."""
    try:
        GaugeConfig.from_dict(values)
    except (ValueError, TypeError) as err:
        return [str(err)]
    return []


def describe(meta: dict[str, Any]) -> str:
    """One line naming a gauge model's reference and validation error."""
    v = meta.get("validation", {})
    what = (f"face model of Q (atoms from level-{meta.get('reference')} witnesses)"
            if meta.get("target") == "face" else f"gauge of {meta.get('reference')}")
    line = (f"{what} in {meta.get('space')}: validation median "
            f"relative error {v.get('median_rel_err', float('nan')):.2e}, band "
            f"{v.get('band', float('nan')):.2e}")
    expected = v.get("curved_expected_spread_accuracy", {}).get("0.001")
    if expected is not None:
        line += f", expected spread accuracy {expected:.3f} at sigma 1e-3 (curved rays)"
    return line
