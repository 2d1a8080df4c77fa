"""``chshml report -o results/report/``: tables beside the paper's, figures, volumes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("report", help="write report.md and PNGs from the results",
                              description=__doc__.splitlines()[0])
    p.add_argument("--eval", nargs="*", action="extend", metavar="FILE",
                   help="evaluation JSONs (each with its _slices.h5 beside it); given, even "
                        "empty, it replaces --eval-dir")
    p.add_argument("--data", nargs="*", action="extend", metavar="FILE",
                   help="dataset files (sizes, timings); given, even empty, it replaces "
                        "--data-dir")
    p.add_argument("--validity", nargs="*", action="extend", metavar="FILE",
                   help="8-D label validity: base datasets and their relabelled copies "
                        "(default: the dataset files)")
    p.add_argument("--eval-dir", default="results/eval",
                   help="every evaluation JSON in this folder (when --eval is not given)")
    p.add_argument("--data-dir", default="results/data",
                   help="every dataset file in this folder (when --data is not given)")
    p.add_argument("--volume", action="append", default=[], metavar="FILE",
                   help="labelled uniform canonical-simplex sample at one NPA level (Fig. 2)")
    p.add_argument("--seesaw", help="see-saw rounds summary (results/seesaw/table8.json)")
    p.add_argument("--seesaw-appendix", help="Appendix A summary (results/seesaw/appendix_a.json)")
    p.add_argument("--seesaw-fig6", help="Fig. 6 PNG (results/seesaw/fig6.png)")
    p.add_argument("--certify-table8", help="Table VIII with Q (results/certify/table8.json)")
    p.add_argument("--certify-appendix",
                   help="Appendix A with Q (results/certify/appendix_a.json)")
    p.add_argument("--n-mc", type=int, default=1_000_000, help="Monte Carlo size for volumes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", default="results/report", help="output directory")
    p.add_argument("--figures-dir", help="where the PNGs go (default: the output directory)")
    p.add_argument("--partial", action="store_true",
                   help="mark the report as partial (built while slow inputs still run)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chshml.errors import InputError
    from chshml.report.build import ReportInputs, build_report

    for opt, folder in (("-o", args.output), ("--figures-dir", args.figures_dir)):
        if folder and Path(folder).exists() and not Path(folder).is_dir():
            raise InputError(f"{opt} {folder}: not a directory (the report writes a folder)")
    if args.n_mc < 1:
        raise InputError(f"--n-mc must be >= 1, got {args.n_mc}")
    if not 0 <= args.seed < 2**63:
        raise InputError(f"--seed must be in [0, 2^63), got {args.seed}")

    inputs = _inputs(args, ReportInputs)
    path = build_report(inputs, Path(args.output), args.n_mc, args.seed,
                        Path(args.figures_dir) if args.figures_dir else None,
                        partial=args.partial)
    print(f"chshml report: -> {path}", file=sys.stderr)
    return 0


def _inputs(args: argparse.Namespace, cls: type):
    """The declared files; ``--eval`` / ``--data`` not given: every file of their folder."""
    dirs = cls.from_dirs(args.eval_dir, args.data_dir)
    data = dirs.data if args.data is None else args.data
    return cls(evals=dirs.evals if args.eval is None else args.eval, data=data,
               validity=data if args.validity is None else args.validity,
               volumes=args.volume, seesaw_table8=args.seesaw,
               seesaw_appendix=args.seesaw_appendix, seesaw_fig6=args.seesaw_fig6,
               certify_table8=args.certify_table8, certify_appendix=args.certify_appendix,
               eval_source=dirs.eval_source if args.eval is None else "given",
               missing=dirs.missing if args.data is None else ())
