"""``chshml sample``: draw behaviours (and, where the method knows them, labels) into HDF5."""

from __future__ import annotations

import argparse

from chshml.sampling.methods import METHODS, draw_sample
from chshml.store import H5_SUFFIXES, check_output, write_h5


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``sample`` subcommand."""
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
    p.add_argument("--curved-at", default=None, metavar="LEVEL", help=(
        "directions: keep only rays whose boundary at this NPA level lies off the NS facets "
        "(screened by the batched labeller; e.g. 1+AB before labelling at level 3)"))
    p.add_argument("-o", "--output", required=True, help="output HDF5 file")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Draw the sample and write it."""
    check_output(args.output, suffixes=H5_SUFFIXES)
    sample = draw_sample(args.method, args.space, args.n, args.seed, args.dataset, args.shard,
                         level=args.level, solver=args.solver, epsilon=args.epsilon,
                         sigma=args.sigma, recipe=args.recipe, sampler=args.sampler,
                         progress=not args.quiet, curved_at=args.curved_at)
    write_h5(args.output, sample.data, sample.attrs)
    return 0
