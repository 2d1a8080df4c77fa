"""``chshml certify-summary FILE --kind table8|appendix-a -o OUT.json``: report summaries."""

from __future__ import annotations

import argparse

from chshml.store import check_output, read_input_h5, write_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("certify-summary", help="summarise a certify run (Table VIII with Q) or "
                       "a certify-rays run (Appendix A with Q) as JSON")
    p.add_argument("input", help="output of chshml certify (table8) or certify-rays")
    p.add_argument("--kind", choices=("table8", "appendix-a"), required=True)
    p.add_argument("-o", "--output", required=True, help="JSON summary")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chshml.certify.summary import appendix_a_summary, table8_summary

    check_output(args.output, [args.input], suffixes=(".json",))
    data, attrs = read_input_h5(args.input, "certify file")
    summarise = table8_summary if args.kind == "table8" else appendix_a_summary
    write_json(args.output, summarise(data, attrs), nan_as_null=False)
    return 0
