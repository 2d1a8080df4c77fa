"""``chshml verify OUT.h5``: re-check every stored dual witness, and every decomposition of a
``chshml certify`` output, with numpy alone (no SDP).
"""

from __future__ import annotations

import argparse

import numpy as np

from chshml.errors import InputError
from chshml.store import read_input_h5


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="re-check the dual witnesses of a label or certify "
                       "output and certify's decompositions "
                       "(exit 0: all hold, 1: some fail, 2: bad input)")
    p.add_argument("input", help="HDF5 written by 'chshml label' or 'chshml certify'")
    p.add_argument("--quiet", action="store_true", help="print only failures and the verdict")
    p.set_defaults(run=run)


def check_columns(path: str) -> None:
    """Refuse a file whose labels are not -1/0/1 or whose per-point datasets are short."""
    data, _ = read_input_h5(path, "labelled file")
    if "points" not in data:
        raise InputError(f"{path}: no dataset 'points'")
    n = len(data["points"])
    for key in ("label", "lam", "lam_lo", "lam_hi", "status"):
        if key in data and (np.ndim(data[key]) < 1 or len(data[key]) != n):
            raise InputError(f"{path}: dataset {key} has {len(np.atleast_1d(data[key]))} rows, "
                             f"points {n}")
    if "label" not in data:
        raise InputError(f"{path}: no dataset 'label'")
    label = np.asarray(data["label"])
    bad = ~np.isin(label, (-1, 0, 1))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"{path}: row {row}: label {label[row].item()!r} is not -1, 0 or 1")


def run(args: argparse.Namespace) -> int:
    from chshml.npa.verify import verify_file

    check_columns(args.input)
    report = verify_file(args.input)
    text = report.summary()
    if report.n_witnesses == 0:  # no margins to report: say so instead of printing nan
        text = "\n".join("margins: none (no witness stored: no point is labelled 0)"
                         if line.startswith("min margin") else line
                         for line in text.splitlines()
                         if not line.startswith("min eigenvalue"))
    if args.quiet:
        text = "\n".join(line for line in text.splitlines()
                         if line.startswith(("FAIL", "OK", "...")))
    print(text)
    return 0 if report.ok else 1
