"""Samplers that need the quantum boundary: balanced sets, boundary pairs and spread sets.

They take a labeller (``points -> LabelResult``, usually :func:`chshml.npa.label_points`
at a fixed level) so the same code serves TLM-exact 4-D work and NPA-level 8-D work.

Recipes (:data:`RECIPES`) for boundary pairs and spread sets:

* ``paper`` (default): the paper's Eqs. (6)-(7) literally. Directions uniform (8-D: those
  through the canonical CHSH facet); ``p_b = lam(u) u`` on the boundary of ``Q_n ∩ NS``
  whatever face it lies on (an NS facet included); pairs ``(1 -+ eps) p_b``. An outer point
  that leaves NS is kept: it is no behaviour, hence trivially not quantum (label 0, with a
  bare NS-facet witness from the labeller).
* ``ns_interior``: our earlier variant. Directions whose ``p_b`` lies on an NS facet (or
  whose outer point would leave NS) are redrawn, so every point is a behaviour; which
  directions survive depends on ``eps`` (13-21 % of the paper's directions remain).

Spread sets are balanced by construction in both recipes: the shift magnitudes are
half-normal and exactly half of them point inward (a random arrangement), and the
``ns_interior`` acceptance (``(1 + |s|) p_b`` in NS) does not look at the sign.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from chshml.geometry import ns_violation, to_full
from chshml.npa.labelling import Labeller, LabelResult
from chshml.sampling.polytope import (
    canonical_facet_directions,
    to_ns_boundary,
    uniform_directions,
)

LabelFn = Callable[[np.ndarray], LabelResult]
#: Per-point outputs of :func:`chshml.npa.label_points` stored with every sampler label,
#: so that ``chshml verify`` checks sampler files exactly like ``chshml label`` files.
LABEL_COLUMNS = ("lam", "lam_lo", "lam_hi", "status", "witness_beta", "witness_beta0",
                 "certificate_Z", "certificate_mu")


def max_draws(n: int) -> int:
    """Draw budget of every draw-until-enough loop: generous for any reachable request
    (defaults need ~1.3 n), small enough to give up well within a minute otherwise.
    """
    return 100 * int(n) + 10_000


def label_columns(res: LabelResult, rows: np.ndarray | slice = slice(None)) -> dict:
    """The :data:`LABEL_COLUMNS` (and ``label``) of ``rows`` of a labelling result."""
    cols = {"lam": res.lam, "lam_lo": res.lam_lo, "lam_hi": res.lam_hi,
            "status": np.asarray(res.status).astype(str), "witness_beta": res.witness_beta,
            "witness_beta0": res.witness_beta0, **res.extra}
    out = {k: np.asarray(cols[k])[rows] for k in LABEL_COLUMNS}
    out["label"] = np.asarray(res.label).astype(np.int8)[rows]
    return out


def relabel(points: np.ndarray, label_fn: LabelFn, constructed: np.ndarray) -> tuple[dict, dict]:
    """Certified labels of sampler points (with witnesses and brackets) by ``label_fn``.

    The constructed labels (sign of the offset) are kept as ``label_construction``; the
    stored ``label`` is the certified one, which differs only where ``|lam - 1|`` is within
    the tolerance (undecided, -1) or the bracket says otherwise. Returns (columns, counts).
    """
    res = label_fn(points)
    cols = label_columns(res)
    cols["label_construction"] = np.asarray(constructed).astype(np.int8)
    counts = {"label_differs_from_construction": int(np.sum(cols["label"] != constructed)),
              "label_undecided": int(np.sum(cols["label"] < 0))}
    counts.update(getattr(res, "attrs", {}) or {})
    return cols, counts


#: Boundary-pair / spread-set recipes; the first is the default (see the module docstring).
RECIPES = ("paper", "ns_interior")
DEFAULT_RECIPE = RECIPES[0]


def check_recipe(recipe: str) -> str:
    """``recipe`` if it is one of :data:`RECIPES`, else a ValueError naming the choices."""
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r} (one of {', '.join(RECIPES)})")
    return recipe


#: A boundary point closer than this to an NS facet is an NS-facet point, not a quantum-
#: boundary point: ``(1 + eps) p_b`` would leave NS, so such directions are redrawn.
NS_FACET_TOL = 1e-7


@dataclass
class LabelledSample:
    """Points with labels (1 quantum, 0 not), gauges and bookkeeping counts."""

    points: np.ndarray
    label: np.ndarray
    lam: np.ndarray
    counts: dict


def balanced(n: int, draw: Callable[[int], np.ndarray], label_fn: LabelFn,
             batch: int | None = None, max_rounds: int | None = None,
             progress: bool = False) -> LabelledSample:
    """Accumulate labelled draws until each class holds ``n / 2`` points (undecided dropped).

    The points keep their draw order within each class; classes are interleaved so any
    prefix stays nearly balanced. Every stored point keeps its :data:`LABEL_COLUMNS`
    (``counts["columns"]``). Gives up with an :class:`InputError` after
    :func:`max_draws` draws.
    """
    from chshml.errors import InputError
    from chshml.progress import Progress

    if n % 2:
        raise ValueError("a balanced set needs an even number of points")
    half = n // 2
    batch = batch or max(n, 64)
    if max_rounds is None:
        max_rounds = -(-max_draws(n) // batch)
    keep: dict[int, list[np.ndarray]] = {0: [], 1: []}
    cols: dict[int, list[dict]] = {0: [], 1: []}
    have = {0: 0, 1: 0}
    drawn = undecided = 0
    attrs: dict = {}
    meter = Progress(n, "balanced points", enabled=progress)
    for _ in range(max_rounds):
        if min(have.values()) >= half:
            break
        pts = draw(batch)
        res = label_fn(pts)
        attrs = getattr(res, "attrs", {}) or {}
        drawn += len(pts)
        undecided += int(np.sum(res.label < 0))
        before = sum(have.values())
        for cls in (0, 1):
            sel = np.flatnonzero(res.label == cls)
            take = min(half - have[cls], len(sel))
            if take > 0:
                keep[cls].append(pts[sel[:take]])
                cols[cls].append(label_columns(res, sel[:take]))
                have[cls] += take
        meter.update(sum(have.values()) - before, f"{drawn} drawn")
    else:
        raise InputError(f"-n {n} (--method balanced): only {have[1]} quantum and {have[0]} "
                         f"not-quantum points of {half} each after {drawn} draws "
                         f"({undecided} undecided); lower -n or check --level/--solver")
    pts = {c: np.concatenate(keep[c]) for c in (0, 1)}
    order_points = np.empty((n, pts[0].shape[1]))
    order_points[0::2], order_points[1::2] = pts[1], pts[0]
    columns = {}
    for key in (*LABEL_COLUMNS, "label"):
        part = {c: np.concatenate([d[key] for d in cols[c]]) for c in (0, 1)}
        merged = np.empty((n, *part[0].shape[1:]), dtype=np.result_type(part[0], part[1]))
        merged[0::2], merged[1::2] = part[1], part[0]
        columns[key] = merged
    labels = np.tile(np.array([1, 0], dtype=np.int8), half)
    counts = {"drawn": drawn, "undecided_dropped": undecided, "columns": columns,
              "label_attrs": attrs}
    return LabelledSample(order_points, labels, columns["lam"], counts)


def boundary_directions(n: int, dim: int, rng: np.random.Generator,
                        canonical: bool) -> tuple[np.ndarray, int]:
    """Directions scaled to the NS boundary: uniform (4-D) or through the canonical facet."""
    if canonical:
        d, drawn = canonical_facet_directions(n, dim, rng)
    else:
        d, drawn = uniform_directions(n, dim, rng), n
    return to_ns_boundary(d), drawn


def boundary_points(n: int, dim: int, rng: np.random.Generator, label_fn: LabelFn,
                    canonical: bool, headroom: float = 0.0,
                    progress: bool = False,
                    recipe: str = DEFAULT_RECIPE) -> tuple[np.ndarray, dict]:
    """``n`` points ``p_b = lam(u) u`` on the boundary of ``Q_n ∩ NS`` (Eq. 6).

    ``recipe="paper"``: every direction whose gauge is decided is kept, whatever face of
    ``Q_n ∩ NS`` its ``p_b`` lies on (``on_ns_facet`` counts those on an NS facet).
    ``recipe="ns_interior"``: directions whose boundary point lies on an NS facet (the
    quantum set touches NS there) or whose outward copy ``(1 + headroom) p_b`` would leave
    NS are redrawn as well. Undecided gauges are always redrawn; the counts say how many.
    After :func:`max_draws` directions without enough points it gives up with an
    :class:`InputError` naming ``--epsilon``.
    """
    check_recipe(recipe)
    keep_facet = recipe == "paper"
    from chshml.errors import InputError
    from chshml.progress import Progress

    out, have = [], 0
    counts = {"directions_drawn": 0, "on_ns_facet": 0, "unsolved": 0, "recipe": recipe,
              "on_ns_facet_redrawn": not keep_facet}
    meter = Progress(n, "boundary points", enabled=progress)
    budget, tried = max_draws(n), 0
    while have < n:
        if tried >= budget:
            hint = (f"--epsilon {headroom:g}: (1 + epsilon) p_b leaves NS for almost every "
                    "direction; use a smaller --epsilon" if headroom > 0
                    else "the labeller certifies too few directions (check --level/--solver)")
            raise InputError(f"only {have} of {n} boundary points after {tried} labelled "
                             "directions "
                             f"({counts['on_ns_facet']} too close to NS, {counts['unsolved']} "
                             f"unsolved): {hint}")
        want = n - have
        u, drawn = boundary_directions(int(want * 1.3) + 8, dim, rng, canonical)
        counts["directions_drawn"] += drawn
        tried += len(u)
        res = label_fn(u)
        ok = np.isfinite(res.lam) & (res.lam_hi - res.lam_lo <= res.tol / 2)
        counts["unsolved"] += int(np.sum(~ok))
        pb = res.lam[:, None] * u
        interior = ns_violation((1 + headroom) * pb) < -NS_FACET_TOL
        counts["on_ns_facet"] += int(np.sum(ok & ~interior))
        pb = pb[ok & (interior | keep_facet)][:want]
        out.append(pb)
        have += len(pb)
        meter.update(len(pb), f"{counts['directions_drawn']} directions drawn")
    return np.concatenate(out), counts


def offset_pairs(boundary: np.ndarray, epsilon: float) -> LabelledSample:
    """Pairs ``(1 - eps) p_b`` (label 1) and ``(1 + eps) p_b`` (label 0), Eq. (7)."""
    n = 2 * len(boundary)
    points = np.empty((n, boundary.shape[1]))
    points[0::2] = (1 - epsilon) * boundary
    points[1::2] = (1 + epsilon) * boundary
    label = np.tile(np.array([1, 0], dtype=np.int8), len(boundary))
    lam = np.tile([1 / (1 - epsilon), 1 / (1 + epsilon)], len(boundary))
    return LabelledSample(points, label, lam, {"epsilon": epsilon})


def surface_weights(boundary: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """Density ratio of surface measure to solid angle at boundary points ``r u``.

    ``dS = r^(D-1) dOmega / cos(theta)`` with ``cos(theta) = n . u`` the angle between the
    outward normal and the ray; uniform directions reweighted by this are uniform on the surface.
    """
    r = np.linalg.norm(boundary, axis=1)
    u = boundary / r[:, None]
    n = normals / np.linalg.norm(normals, axis=1, keepdims=True)
    cos = np.clip(np.sum(n * u, axis=1), 1e-12, None)
    return r ** (boundary.shape[1] - 1) / cos


def boundary_normals(boundary: np.ndarray, level: str, solver: str = "auto") -> np.ndarray:
    """Outward normals of ``Q_n`` at boundary points: the supporting dual functional ``beta``."""
    from chshml.geometry import ns_facets

    labeller = Labeller(level, solver)
    normals = np.empty_like(boundary)
    g, h = ns_facets(boundary.shape[1])
    slack = boundary @ g.T - h
    for i, p in enumerate(boundary):
        if slack[i].max() > -NS_FACET_TOL:  # on an NS facet: that facet is the face
            normals[i] = g[int(np.argmax(slack[i]))]
            continue
        sol = labeller.solve(to_full(p))
        if sol.witness is None:
            normals[i] = p  # no dual: fall back to the radial direction (weight r^(D-1))
        else:
            normals[i] = sol.witness.beta[-len(p):] if len(p) < 8 else sol.witness.beta
    return normals


def surface_uniform_boundary(n: int, dim: int, rng: np.random.Generator, label_fn: LabelFn,
                             level: str, canonical: bool, oversample: int = 4,
                             solver: str = "auto",
                             recipe: str = DEFAULT_RECIPE) -> tuple[np.ndarray, dict]:
    """``n`` boundary points, approximately uniform on the surface of ``Q_n ∩ NS`` (recipe
    ``paper``: every face, NS facets included) or of its part inside NS (``ns_interior``).

    Sampling-importance-resampling: a pool of ``oversample * n`` boundary points along
    uniform directions is weighted by :func:`surface_weights` (normals from the dual
    functional) and ``n`` distinct points are drawn with probability proportional to their
    weight (exact as ``oversample`` grows; the effective sample size is stored).
    """
    pool, counts = boundary_points(oversample * n, dim, rng, label_fn, canonical,
                                   recipe=recipe)
    weights = surface_weights(pool, boundary_normals(pool, level, solver))
    prob = weights / weights.sum()
    chosen = rng.choice(len(pool), size=n, replace=False, p=prob)
    counts["surface_pool"] = len(pool)
    counts["surface_effective_pool"] = float(1.0 / np.sum(prob**2))
    return pool[chosen], counts


def balanced_shifts(n: int, sigma: float, rng: np.random.Generator,
                    magnitudes: np.ndarray | None = None) -> np.ndarray:
    """``n`` shifts with ``|s| ~ |N(0, sigma)|`` of which exactly ``n // 2`` are negative.

    Marginally each shift is ``N(0, sigma)``-distributed up to the exact balance of signs
    (a random arrangement of ``n // 2`` minus signs; an odd ``n`` gets one random sign).
    ``magnitudes`` (already drawn ``|s|``) replace the draw of the magnitudes.
    """
    if magnitudes is None:
        mag = np.abs(rng.normal(0.0, sigma, size=n))
    else:
        mag = np.abs(np.asarray(magnitudes, dtype=float))
    signs = np.ones(n)
    signs[: n // 2] = -1.0
    if n % 2:
        signs[-1] = rng.choice([-1.0, 1.0])
    return mag * rng.permutation(signs)


def spread_set(boundary: np.ndarray, sigma: float, rng: np.random.Generator,
               balanced_signs: bool = True,
               magnitudes: np.ndarray | None = None) -> LabelledSample:
    """``(1 + s) p_b`` with ``s ~ N(0, sigma)``; label 1 where the shift is inward (``s < 0``).

    With ``balanced_signs`` (default) exactly half the shifts are inward
    (:func:`balanced_shifts`), so the set is balanced by construction.
    """
    if balanced_signs:
        shift = balanced_shifts(len(boundary), sigma, rng, magnitudes)
    else:
        shift = rng.normal(0.0, sigma, size=len(boundary))
    points = (1 + shift)[:, None] * boundary
    label = (shift < 0).astype(np.int8)
    return LabelledSample(points, label, 1 / (1 + shift), {"sigma": sigma})


def spread_sample(n: int, sigma: float, dim: int, rng: np.random.Generator, label_fn: LabelFn,
                  level: str, canonical: bool, solver: str = "auto",
                  recipe: str = DEFAULT_RECIPE, max_rounds: int = 50,
                  progress: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """A spread set (paper Sec. IV A): ``n`` points ``(1 + s) p_b``, ``p_b`` surface-uniform.

    Returns ``(points, constructed_labels, boundary_points, counts)``. Recipe ``paper``
    keeps every point: an outward shift beyond an NS facet is no behaviour and is labelled
    0 (not quantum). Recipe ``ns_interior`` draws boundary points off the NS facets and
    rejects a point when ``(1 + |s|) p_b`` leaves NS: the test ignores the sign of the
    shift, so rejection does not unbalance the classes. Either way half the shifts are
    inward (:func:`balanced_shifts`).
    """
    from chshml.errors import InputError
    from chshml.progress import Progress

    check_recipe(recipe)
    points, labels, bounds = [], [], []
    have, counts = 0, {"dropped_outside_ns": 0, "outside_ns_kept": 0}
    meter = Progress(n, "spread points", enabled=progress)
    for _ in range(max_rounds):
        if have >= n:
            break
        want = n - have
        extra_draw = 0 if recipe == "paper" else want // 5 + 4
        pb, extra = surface_uniform_boundary(want + extra_draw, dim, rng, label_fn, level,
                                             canonical, solver=solver, recipe=recipe)
        for key, value in extra.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                counts[key] = counts.get(key, 0) + value
            else:
                counts[key] = value
        mag = np.abs(rng.normal(0.0, sigma, size=len(pb)))
        if recipe == "ns_interior":  # the sign-blind test: both (1 +- |s|) p_b in NS
            ok = np.flatnonzero(ns_violation((1 + mag)[:, None] * pb) <= 0)[:want]
            counts["dropped_outside_ns"] += int(len(pb) - len(ok))
            pb, mag = pb[ok], mag[ok]
        pb, mag = pb[:want], mag[:want]
        s = spread_set(pb, sigma, rng, magnitudes=mag)
        counts["outside_ns_kept"] += int(np.sum(ns_violation(s.points) > 0))
        points.append(s.points)
        labels.append(s.label)
        bounds.append(pb)
        have += len(s.points)
        meter.update(len(s.points), f"{counts['dropped_outside_ns']} dropped outside NS")
    else:
        raise InputError(f"--sigma {sigma:g}: only {have} of {n} spread points stayed inside NS "
                         f"after {max_rounds} rounds; use a smaller --sigma")
    pts, lab = np.concatenate(points), np.concatenate(labels)
    counts["sigma"] = sigma
    counts["recipe"] = recipe
    counts["quantum_share_constructed"] = float(np.mean(lab == 1)) if len(lab) else float("nan")
    return pts, lab, np.concatenate(bounds), counts
