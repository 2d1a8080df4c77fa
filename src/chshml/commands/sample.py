"""``chshml sample``: draw behaviours (and, where the method knows them, labels) into HDF5."""

from __future__ import annotations

import argparse
import time

import numpy as np

from chshml import __version__
from chshml.errors import InputError

METHODS = ("uniform", "simplex", "balanced", "boundary", "spread", "directions")
LABELLED = ("balanced", "boundary", "spread")
#: Largest offset for boundary pairs: sqrt(2) - 1 (see ``_check``).
MAX_EPSILON = float(np.sqrt(2.0) - 1.0)
#: Rounds of the spread sampler before it gives up (each keeps ~all its draws).
MAX_SPREAD_ROUNDS = 50
DEFAULT_LEVEL = {"corr4": "1", "full8": "1+AB"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="sample behaviours in the 4-D or 8-D CHSH space")
    p.add_argument("--space", required=True, choices=("corr4", "full8"))
    p.add_argument("--method", required=True, choices=METHODS, help=(
        "uniform: NS (cube in 4-D); simplex: canonical nonlocal simplex; balanced: half "
        "quantum, half not (labelled, drawn from the cube in 4-D and the canonical simplex in "
        "8-D); boundary: pairs (1 +- eps) p_b; spread: (1 + N(0, sigma)) p_b with p_b uniform "
        "on the boundary surface; directions: rays through the canonical CHSH facet (8-D) or "
        "all rays (4-D), scaled to the NS boundary"))
    p.add_argument("-n", type=int, required=True, help="number of points")
    p.add_argument("--seed", type=int, required=True, help="global seed")
    p.add_argument("--dataset", default="", help="dataset name (part of the random stream key)")
    p.add_argument("--shard", type=int, default=0, help="shard index (part of the stream key)")
    p.add_argument("--level", default=None, help="NPA level for labelled methods "
                   "(default 1 in corr4, 1+AB in full8)")
    p.add_argument("--solver", default="auto", help="auto | clarabel | mosek | scs")
    p.add_argument("--epsilon", type=float, default=1e-2, help="offset for --method boundary")
    p.add_argument("--sigma", type=float, default=1e-2, help="spread for --method spread")
    p.add_argument("--recipe", choices=("paper", "ns_interior"), default="paper", help=(
        "boundary/spread: paper = Eqs. (6)-(7) literally (uniform directions, p_b on any face "
        "of Q_n ∩ NS, outer points outside NS kept with label 0); ns_interior = redraw "
        "directions whose p_b lies on an NS facet or whose outer point leaves NS"))
    p.add_argument("--sampler", choices=("exact", "hit-and-run"), default="exact",
                   help="uniform/simplex: exact sampler or hit-and-run")
    p.add_argument("-o", "--output", required=True, help="output HDF5 file")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(run=run)


def _check(args: argparse.Namespace) -> None:
    if args.n < 1:
        raise InputError(f"-n must be >= 1, got {args.n}")
    if not (0 <= args.seed < 2**63 and 0 <= args.shard < 2**63):
        raise InputError(f"--seed and --shard must be in [0, 2^63), got --seed {args.seed} "
                         f"--shard {args.shard}")
    if args.method in ("balanced", "boundary") and args.n % 2:
        raise InputError(f"-n must be even for --method {args.method}, got {args.n}")
    if args.recipe == "ns_interior" and not 0 < args.epsilon < MAX_EPSILON:
        raise InputError(f"--epsilon must be in (0, {MAX_EPSILON:.4f}) with --recipe "
                         f"ns_interior, got {args.epsilon}: (1 + epsilon) p_b must stay in NS, "
                         "and NS lies within sqrt(2) Q (every NS point over sqrt(2) mixes a "
                         "local point and a Tsirelson point), so 1 + epsilon < sqrt(2) is "
                         "necessary")
    if not 0 < args.epsilon < 1:  # the paper's pairs: (1 - epsilon) p_b must not vanish
        raise InputError(f"--epsilon must be in (0, 1), got {args.epsilon}")
    if not 0 < args.sigma < 0.5:
        raise InputError(f"--sigma must be in (0, 0.5), got {args.sigma}")


def _unlabelled(args: argparse.Namespace, dim: int, rng: np.random.Generator) -> dict:
    from chshml.geometry import ns_facets
    from chshml.sampling import polytope

    if args.method == "uniform":
        if args.sampler == "hit-and-run":
            g, h = ns_facets(dim)
            return {"points": polytope.hit_and_run(g, h, args.n, rng)}
        return {"points": polytope.uniform_ns(args.n, dim, rng)}
    if args.method == "simplex":
        if args.sampler == "hit-and-run":
            vertices = polytope.canonical_simplex_vertices(dim)
            centre = vertices.mean(axis=0)
            g, h = _simplex_facets(vertices)
            return {"points": polytope.hit_and_run(g, h, args.n, rng, x0=centre)}
        return {"points": polytope.uniform_canonical_simplex(args.n, dim, rng)}
    # directions
    canonical = dim == 8
    if canonical:
        d, drawn = polytope.canonical_facet_directions(args.n, dim, rng)
    else:
        d, drawn = polytope.uniform_directions(args.n, dim, rng), args.n
    return {"points": polytope.to_ns_boundary(d), "directions": d,
            "_attrs": {"directions_drawn": drawn, "canonical_facet_only": canonical}}


def _simplex_facets(vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """H-representation of a full-dimensional simplex from its vertices."""
    dim = vertices.shape[1]
    rows, rhs = [], []
    for i in range(dim + 1):
        others = np.delete(vertices, i, axis=0)
        normal = np.linalg.svd(np.column_stack([others, np.ones(dim)]))[2][-1]
        a, b = normal[:dim], -normal[dim]
        if a @ vertices[i] > b:
            a, b = -a, -b
        rows.append(a)
        rhs.append(b)
    return np.array(rows), np.array(rhs)


def _labelled(args: argparse.Namespace, dim: int, rng: np.random.Generator, level: str) -> dict:
    from functools import partial

    from chshml.npa import label_points
    from chshml.npa.labelling import certificate_attrs
    from chshml.npa.words import moment_map
    from chshml.sampling import labelled, polytope

    label_fn = partial(label_points, level=level, solver=args.solver)
    canonical = dim == 8
    progress = not args.quiet
    cert_attrs = certificate_attrs(moment_map(level))
    if args.method == "balanced":
        if canonical:
            def draw(k: int) -> np.ndarray:
                return polytope.uniform_canonical_simplex(k, dim, rng)
        else:
            def draw(k: int) -> np.ndarray:
                return polytope.uniform_cube(k, dim, rng)
        s = labelled.balanced(args.n, draw, label_fn, progress=progress)
        columns = s.counts.pop("columns")
        s.counts.pop("label_attrs", None)
        return {"points": s.points, **columns, "_attrs": {**s.counts, **cert_attrs}}
    if args.method == "boundary":
        pb, counts = labelled.boundary_points(args.n // 2, dim, rng, label_fn, canonical,
                                               headroom=args.epsilon, progress=progress,
                                               recipe=args.recipe)
        s = labelled.offset_pairs(pb, args.epsilon)
        counts.update(s.counts)
        columns, extra = labelled.relabel(s.points, label_fn, s.label)
        counts.update({k: v for k, v in extra.items() if not k.startswith("certificate_")})
        return {"points": s.points, **columns, "boundary": pb,
                "_attrs": {**counts, **cert_attrs}}
    # spread: balanced by construction; recipe paper keeps outward points beyond NS (label
    # 0), ns_interior rejects a point when (1 + |s|) p_b leaves NS, whatever the sign of s
    pts, lab, bounds, counts = labelled.spread_sample(
        args.n, args.sigma, dim, rng, label_fn, level, canonical, solver=args.solver,
        recipe=args.recipe, max_rounds=MAX_SPREAD_ROUNDS, progress=progress)
    columns, extra = labelled.relabel(pts, label_fn, lab)
    counts.update({k: v for k, v in extra.items() if not k.startswith("certificate_")})
    return {"points": pts, **columns, "boundary": bounds,
            "_attrs": {**counts, **cert_attrs}}


def run(args: argparse.Namespace) -> int:
    from chshml.commands.label import check_options
    from chshml.geometry import SPACES
    from chshml.seeds import shard_rng
    from chshml.store import H5_SUFFIXES, check_output, write_h5

    _check(args)
    check_output(args.output, suffixes=H5_SUFFIXES)
    dim = SPACES[args.space]
    level = args.level or DEFAULT_LEVEL[args.space]
    if args.level is not None or args.method in LABELLED:
        level, _ = check_options(level, args.solver, 1e-6)
    rng = shard_rng(args.seed, args.dataset, args.shard)
    cpu_start = time.process_time()
    if args.method in ("uniform", "simplex", "directions"):
        data = _unlabelled(args, dim, rng)
    else:
        data = _labelled(args, dim, rng, level)
    attrs = {
        "space": args.space, "method": args.method, "seed": args.seed, "dataset": args.dataset,
        "shard": args.shard, "chshml_version": __version__, "n_points": args.n,
        "cpu_seconds": time.process_time() - cpu_start,
    }
    if args.method in ("balanced", "boundary", "spread"):
        attrs.update(level=level, epsilon=args.epsilon, sigma=args.sigma)
    if args.method in ("boundary", "spread"):
        attrs["recipe"] = args.recipe
    attrs.update({k: v for k, v in data.pop("_attrs", {}).items()})
    write_h5(args.output, data, attrs)
    return 0
