"""``chshml predict MODEL INPUT -o OUT.h5``: quantum / not-quantum labels from a trained model.

Any 8-D (or 4-D) behaviour is accepted: for 8-D models, local points are quantum and the others
are relabelled onto the canonical nonlocal simplex before the model sees them. Inputs are read
and validated as for ``chshml label`` (.h5/.npy/.csv, finite, inside NS).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("predict", help="label behaviours with a trained model",
                              description=__doc__.splitlines()[0])
    p.add_argument("model", help="MODEL.joblib or MODEL.keras")
    p.add_argument("input", help="behaviours: .h5 (dataset 'points'), .npy or .csv")
    p.add_argument("-o", "--output", required=True, help="output HDF5 (points, label, local)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chshml.geometry import is_local, to_full
    from chshml.models.io import load_model, model_meta_path
    from chshml.store import H5_SUFFIXES, check_output, load_points, write_h5

    inputs = (args.input, args.model, model_meta_path(args.model))
    check_output(args.output, inputs, suffixes=H5_SUFFIXES)
    points = load_points(args.input)
    clf = load_model(args.model)
    label = clf.predict(points)
    local = is_local(to_full(points)) if points.shape[1] == 8 else np.zeros(len(points), bool)
    write_h5(args.output, {"points": points, "label": label.astype(np.int8), "local": local},
             {"model": str(args.model), "model_kind": clf.meta.get("kind", "?"),
              "model_space": clf.space, "model_dataset": clf.meta.get("dataset", "?"),
              "input": str(args.input)}, inputs=inputs)
    print(f"chshml predict: {len(points)} points, {int(label.sum())} quantum -> {args.output}",
          file=sys.stderr)
    return 0
