"""``chshml certify-rays DIRECTIONS -o OUT.h5 [--level L]``: Appendix A with Q itself.

For each ray u: the Q_1+AB gauge and a certified bracket ``t_lo <= t_Q(u) <= t_hi`` on the
gauge of Q (inner: an explicit two-qubit decomposition of ``t_lo u``; outer: NPA level L), so
the distance from the Q_1+AB boundary point to Q is certified to lie in ``[d_lo, d_hi]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from chshml import __version__
from chshml.geometry import space_of_dim
from chshml.store import check_output, load_points, write_h5


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
    from chshml.certify.ray import appendix_a
    from chshml.npa.labelling import validate_label_options

    level = validate_label_options(args.level, "auto", 1e-6)
    check_output(args.output, [args.input], suffixes=(".h5", ".hdf5"))
    directions = load_points(args.input, check_ns=False)
    cpu0 = time.process_time()
    res = appendix_a(directions, level, progress=not args.quiet, seed=args.seed)
    data = {"points": directions, "lam_1ab": res.lam_1ab, "t_lo": res.bracket.t_lo,
            "t_hi": res.bracket.t_hi, "n_atoms": res.bracket.n_atoms,
            "npa_certified": res.bracket.npa_certified.astype(np.int8),
            "d_lo": res.d_lo, "d_hi": res.d_hi}
    attrs = {"level": level, "space": space_of_dim(directions.shape[1]), "seed": args.seed,
             "command": "certify-rays", "chshml_version": __version__,
             "cpu_seconds": time.process_time() - cpu0}
    write_h5(args.output, data, attrs)
    return 0
