"""``chshml verify OUT.h5``: re-check every stored dual witness, and every decomposition of a
``chshml certify`` output, with numpy alone (no SDP)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="re-check the dual witnesses of a label or certify "
                       "output and certify's decompositions "
                       "(exit 0: all hold, 1: some fail, 2: bad input)")
    p.add_argument("input", help="HDF5 written by 'chshml label' or 'chshml certify'")
    p.add_argument("--quiet", action="store_true", help="print only failures and the verdict")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chshml.npa.verify import verify_file

    report = verify_file(args.input)
    text = report.summary()
    if args.quiet:
        text = "\n".join(line for line in text.splitlines()
                         if line.startswith(("FAIL", "OK", "...")))
    print(text)
    return 0 if report.ok else 1
