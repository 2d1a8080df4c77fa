"""The sampling methods of ``chshml sample``, behind one registry: :func:`draw_sample`.

Unlabelled methods draw behaviours only: ``uniform`` (NS; the cube in 4-D), ``simplex`` (the
canonical nonlocal simplex beyond ``E00 + E01 + E10 - E11 = 2``) and ``directions`` (rays
scaled to the NS boundary; with ``curved_at`` only the rays whose boundary at that NPA level
lies off the NS facets, the ones a gauge model learns from). Labelled methods also know the
NPA label of each point:
``balanced`` (half in Q_n, half not), ``boundary`` (the paper's pairs ``(1 -+ eps) p_b``,
Eq. (6)) and ``spread`` (``(1 + N(0, sigma)) p_b``, Eq. (7)), with ``p_b`` on the boundary of
Q_n ∩ NS. Every method takes plain arguments and one ``numpy.random.Generator``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from chshml import __version__
from chshml.errors import InputError
from chshml.geometry import (
    NS_FACET_RTOL,
    SPACES,
    canonical_simplex_vertices,
    ns_facets,
    simplex_facets,
)
from chshml.sampling import polytope
from chshml.seeds import shard_rng
from chshml.store import SampleFile

METHODS = ("uniform", "simplex", "balanced", "boundary", "spread", "directions")
LABELLED = ("balanced", "boundary", "spread")
#: Largest offset for boundary pairs: sqrt(2) - 1 (see :func:`validate_sample_options`).
MAX_EPSILON = float(np.sqrt(2.0) - 1.0)
#: Rounds of the spread sampler before it gives up (each keeps ~all its draws).
MAX_SPREAD_ROUNDS = 50
#: Screening rounds of ``--curved-at`` before it gives up (a round keeps ~1 ray in 4 at 1+AB).
MAX_CURVED_ROUNDS = 50
#: NPA level of the labels by space, the paper's reference sets: level 1 is exact in 4-D
#: (= TLM), 1+AB in 8-D. The workflow's default too (``chshml.workflow_config``).
DEFAULT_LEVEL = {"corr4": "1", "full8": "1+AB"}


@dataclass
class Sample:
    """Datasets (name -> array, see :class:`chshml.store.SampleFile`) and attributes."""

    data: dict[str, np.ndarray]
    attrs: dict[str, Any] = field(default_factory=dict)


def validate_sample_options(method: str, n: int, seed: int, shard: int, epsilon: float,
                            sigma: float, recipe: str) -> None:
    """Refuse options no method can honour, naming the ``chshml sample`` option."""
    if n < 1:
        raise InputError(f"-n must be >= 1, got {n}")
    if not (0 <= seed < 2**63 and 0 <= shard < 2**63):
        raise InputError(f"--seed and --shard must be in [0, 2^63), got --seed {seed} "
                         f"--shard {shard}")
    if method in ("balanced", "boundary") and n % 2:
        raise InputError(f"-n must be even for --method {method}, got {n}")
    if recipe == "ns_interior" and not 0 < epsilon < MAX_EPSILON:
        raise InputError(f"--epsilon must be in (0, {MAX_EPSILON:.4f}) with --recipe "
                         f"ns_interior, got {epsilon}: (1 + epsilon) p_b must stay in NS, "
                         "and NS lies within sqrt(2) Q (every NS point over sqrt(2) mixes a "
                         "local point and a Tsirelson point), so 1 + epsilon < sqrt(2) is "
                         "necessary")
    if not 0 < epsilon < 1:  # the paper's pairs: (1 - epsilon) p_b must not vanish
        raise InputError(f"--epsilon must be in (0, 1), got {epsilon}")
    if not 0 < sigma < 0.5:
        raise InputError(f"--sigma must be in (0, 0.5), got {sigma}")


@dataclass(frozen=True)
class _Options:
    """What a method may use besides ``n``, ``dim`` and the generator."""

    level: str
    solver: str
    epsilon: float
    sigma: float
    recipe: str
    sampler: str
    progress: bool
    curved_at: str | None = None


def _uniform(n: int, dim: int, rng: np.random.Generator, opt: _Options) -> Sample:
    if opt.sampler == "hit-and-run":
        g, h = ns_facets(dim)
        return Sample({SampleFile.POINTS: polytope.hit_and_run(g, h, n, rng)})
    return Sample({SampleFile.POINTS: polytope.uniform_ns(n, dim, rng)})


def _simplex(n: int, dim: int, rng: np.random.Generator, opt: _Options) -> Sample:
    if opt.sampler == "hit-and-run":
        vertices = canonical_simplex_vertices(dim)
        centre = vertices.mean(axis=0)
        g, h = simplex_facets(vertices)
        return Sample({SampleFile.POINTS: polytope.hit_and_run(g, h, n, rng, x0=centre)})
    return Sample({SampleFile.POINTS: polytope.uniform_canonical_simplex(n, dim, rng)})


def _draw_directions(n: int, dim: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """``n`` rays (8-D: through the canonical CHSH facet) and how many were drawn for them."""
    if dim == 8:
        return polytope.canonical_facet_directions(n, dim, rng)
    return polytope.uniform_directions(n, dim, rng), n


def _directions(n: int, dim: int, rng: np.random.Generator, opt: _Options) -> Sample:
    if opt.curved_at is not None:
        return _curved_directions(n, dim, rng, opt)
    d, drawn = _draw_directions(n, dim, rng)
    return Sample({SampleFile.POINTS: polytope.to_ns_boundary(d), SampleFile.DIRECTIONS: d},
                  {"directions_drawn": drawn, "canonical_facet_only": dim == 8})


def _curved_directions(n: int, dim: int, rng: np.random.Generator, opt: _Options) -> Sample:
    """Rays whose boundary at level ``curved_at`` is off the NS facets (gauge of the NS point
    below ``1 - NS_FACET_RTOL``), screened in batches by the batched labeller at that level.

    Where Q's boundary runs along an NS facet its gauge is known exactly, so a gauge model
    learns from curved rays only; screening at a cheap level (1+AB: ~0.4 ms a ray) spares
    most of the labelling at an expensive one. Q_n shrinks with n, so a ray flat at the
    screening level may still be curved at a higher one: those rays are not drawn.
    """
    from chshml.npa import label_points

    kept_d: list[np.ndarray] = []
    kept_p: list[np.ndarray] = []
    total = drawn = 0
    for _ in range(MAX_CURVED_ROUNDS):
        if total >= n:
            break
        d, k = _draw_directions(max(5 * (n - total), 64), dim, rng)  # ~1 in 4 curved at 1+AB
        drawn += k
        p = polytope.to_ns_boundary(d)
        curved = label_points(p, opt.curved_at, solver=opt.solver).lam < 1.0 - NS_FACET_RTOL
        kept_d.append(d[curved])
        kept_p.append(p[curved])
        total += int(curved.sum())
    if total < n:
        raise InputError(f"--curved-at {opt.curved_at}: only {total} of {drawn} rays have a "
                         f"curved boundary at that level, {n} wanted")
    d = np.concatenate(kept_d)[:n]
    return Sample({SampleFile.POINTS: np.concatenate(kept_p)[:n], SampleFile.DIRECTIONS: d},
                  {"directions_drawn": drawn, "canonical_facet_only": dim == 8,
                   "curved_at": opt.curved_at})


def _label_fn(opt: _Options) -> Callable:
    from chshml.npa import label_points

    return partial(label_points, level=opt.level, solver=opt.solver)


def _certificate_attrs(level: str) -> dict[str, Any]:
    from chshml.npa.labelling import certificate_attrs
    from chshml.npa.words import moment_map

    return certificate_attrs(moment_map(level))


def _balanced(n: int, dim: int, rng: np.random.Generator, opt: _Options) -> Sample:
    from chshml.sampling import labelled

    label_fn = _label_fn(opt)
    cert_attrs = _certificate_attrs(opt.level)
    if dim == 8:
        def draw(k: int) -> np.ndarray:
            return polytope.uniform_canonical_simplex(k, dim, rng)
    else:
        def draw(k: int) -> np.ndarray:
            return polytope.uniform_cube(k, dim, rng)
    s = labelled.balanced(n, draw, label_fn, progress=opt.progress)
    columns = s.counts.pop("columns")
    s.counts.pop("label_attrs", None)
    return Sample({SampleFile.POINTS: s.points, **columns}, {**s.counts, **cert_attrs})


def _boundary(n: int, dim: int, rng: np.random.Generator, opt: _Options) -> Sample:
    from chshml.sampling import labelled

    label_fn = _label_fn(opt)
    cert_attrs = _certificate_attrs(opt.level)
    pb, counts = labelled.boundary_points(n // 2, dim, rng, label_fn, dim == 8,
                                          headroom=opt.epsilon, progress=opt.progress,
                                          recipe=opt.recipe)
    s = labelled.offset_pairs(pb, opt.epsilon)
    counts.update(s.counts)
    columns, extra = labelled.relabel(s.points, label_fn, s.label)
    counts.update({k: v for k, v in extra.items() if not k.startswith("certificate_")})
    return Sample({SampleFile.POINTS: s.points, **columns, SampleFile.BOUNDARY: pb},
                  {**counts, **cert_attrs})


def _spread(n: int, dim: int, rng: np.random.Generator, opt: _Options) -> Sample:
    """Balanced by construction; recipe paper keeps outward points beyond NS (label 0),
    ns_interior rejects a point when ``(1 + |s|) p_b`` leaves NS, whatever the sign of s.
    """
    from chshml.sampling import labelled

    label_fn = _label_fn(opt)
    cert_attrs = _certificate_attrs(opt.level)
    pts, lab, bounds, counts = labelled.spread_sample(
        n, opt.sigma, dim, rng, label_fn, opt.level, dim == 8, solver=opt.solver,
        recipe=opt.recipe, max_rounds=MAX_SPREAD_ROUNDS, progress=opt.progress)
    columns, extra = labelled.relabel(pts, label_fn, lab)
    counts.update({k: v for k, v in extra.items() if not k.startswith("certificate_")})
    return Sample({SampleFile.POINTS: pts, **columns, SampleFile.BOUNDARY: bounds},
                  {**counts, **cert_attrs})


#: Method name -> sampler ``(n, dim, rng, options) -> Sample``.
REGISTRY: dict[str, Callable[[int, int, np.random.Generator, _Options], Sample]] = {
    "uniform": _uniform, "simplex": _simplex, "directions": _directions,
    "balanced": _balanced, "boundary": _boundary, "spread": _spread,
}


def draw_sample(method: str, space: str, n: int, seed: int, dataset: str = "", shard: int = 0,
                *, level: str | None = None, solver: str = "auto", epsilon: float = 1e-2,
                sigma: float = 1e-2, recipe: str = "paper", sampler: str = "exact",
                progress: bool = True, curved_at: str | None = None) -> Sample:
    """``n`` behaviours of ``space`` (``corr4``/``full8``) drawn by ``method`` from the
    stream ``shard_rng(seed, dataset, shard)``, with the provenance attributes of a sample file.

    ``level`` (default :data:`DEFAULT_LEVEL`) and ``solver`` label the labelled methods;
    ``curved_at`` (method ``directions``) keeps the rays curved at that level.
    """
    validate_sample_options(method, n, seed, shard, epsilon, sigma, recipe)
    if curved_at is not None:
        if method != "directions":
            raise InputError(f"--curved-at screens --method directions only, not {method}")
        from chshml.npa.labelling import validate_label_options

        curved_at = validate_label_options(curved_at, solver, 1e-6)
    if method not in REGISTRY:
        raise InputError(f"unknown --method {method!r}: choose one of {', '.join(METHODS)}")
    dim = SPACES[space]
    chosen = level or DEFAULT_LEVEL[space]
    if level is not None or method in LABELLED:
        from chshml.npa.labelling import validate_label_options

        chosen = validate_label_options(chosen, solver, 1e-6)
    rng = shard_rng(seed, dataset, shard)
    cpu_start = time.process_time()
    opt = _Options(chosen, solver, epsilon, sigma, recipe, sampler, progress, curved_at)
    sample = REGISTRY[method](n, dim, rng, opt)
    attrs: dict[str, Any] = {
        "space": space, "method": method, "seed": seed, "dataset": dataset,
        "shard": shard, "chshml_version": __version__, "n_points": n,
        "cpu_seconds": time.process_time() - cpu_start,
    }
    if method in LABELLED:
        attrs.update(level=chosen, epsilon=epsilon, sigma=sigma)
    if method in ("boundary", "spread"):
        attrs["recipe"] = recipe
    attrs.update(sample.attrs)
    return Sample(sample.data, attrs)
