"""``chshml seesaw-summary``: Table VIII from round files, or Appendix A counts and Fig. 6."""

from __future__ import annotations

import argparse

from chshml.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("seesaw-summary", help="summarise see-saw rounds (Table VIII) or the "
                       "Appendix A distances (Fig. 6)")
    p.add_argument("inputs", nargs="+", help="round files in order, or one Appendix A file")
    p.add_argument("--kind", choices=("rounds", "appendix-a"), required=True)
    p.add_argument("-o", "--output", required=True, help="JSON summary")
    p.add_argument("--figure", default=None, help="PNG of Fig. 6 (appendix-a only)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chshml.seesaw import summary
    from chshml.store import check_output, read_h5, read_input_h5, write_json

    check_output(args.output, args.inputs)
    if args.figure:
        check_output(args.figure, [*args.inputs, args.output], "--figure")
    for path in args.inputs:
        read_input_h5(path, "see-saw file")
    if args.kind == "rounds":
        write_json(args.output, {"rounds": summary.rounds_table(args.inputs)}, nan_as_null=False)
        return 0
    if len(args.inputs) != 1:
        raise InputError("--kind appendix-a takes exactly one input file")
    result = summary.appendix_a_summary(args.inputs[0])
    write_json(args.output, result, nan_as_null=False)
    if args.figure:
        data, _ = read_h5(args.inputs[0])
        summary.plot_fig6(result, data["distance"], args.figure)
    return 0
