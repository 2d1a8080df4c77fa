"""``chshml certify-rays DIRECTIONS -o OUT.h5 [--level L]``: Appendix A with Q itself.

For each ray u: the Q_1+AB gauge and a certified bracket ``t_lo <= t_Q(u) <= t_hi`` on the
gauge of Q (inner: an explicit two-qubit decomposition of ``t_lo u``; outer: NPA level L), so
the distance from the Q_1+AB boundary point to Q is certified to lie in ``[d_lo, d_hi]``.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("certify-rays", help="Appendix A: distance along each ray from the "
                       "Q_1+AB boundary to Q, certified both ways")
    p.add_argument("input", help="directions: HDF5 with dataset 'points', .npy or .csv")
    p.add_argument("-o", "--output", required=True, help="output HDF5 file")
    p.add_argument("--level", default="4", help="NPA level of the outer bound (default 4)")
    p.add_argument("--seed", type=int, default=0, help="seed of the oracle's random starts")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Certify the Q boundary along every ray and write the file."""
    from chshml.certify.ray import certify_rays_file
    from chshml.npa.labelling import validate_label_options

    level = validate_label_options(args.level, "auto", 1e-6)
    certify_rays_file(args.input, args.output, level, seed=args.seed, progress=not args.quiet)
    return 0
