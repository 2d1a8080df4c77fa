"""``chshml predict MODEL INPUT -o OUT.h5``: quantum / not-quantum labels from a trained model.

Any 8-D (or 4-D) behaviour is accepted: for 8-D models, local points are quantum and the others
are relabelled onto the canonical nonlocal simplex before the model sees them. Inputs are read
and validated as for ``chshml label`` (.h5/.npy/.csv, finite, inside NS).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from chshml.errors import InputError
from chshml.geometry import is_local, to_full
from chshml.models import load_model, model_meta_path
from chshml.store import H5_SUFFIXES, check_output, load_points, write_h5


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("predict", help="label behaviours with a trained model",
                              description=__doc__.splitlines()[0])
    p.add_argument("model", help="MODEL.joblib or MODEL.keras")
    p.add_argument("input", help="behaviours: .h5 (dataset 'points'), .npy or .csv")
    p.add_argument("-o", "--output", required=True, help="output HDF5 (points, label, local; "
                   "lam_pred for gauge models)")
    p.add_argument("--certify", action="store_true",
                   help="gauge models: send points whose predicted gauge lies within the "
                        "model's error band of 1 to the certified NPA labeller")
    p.add_argument("--band-factor", type=float, default=2.0,
                   help="--certify routes |lam_pred - 1| <= factor * band (default 2)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    inputs = (args.input, args.model, model_meta_path(args.model))
    check_output(args.output, inputs, suffixes=H5_SUFFIXES)
    points = load_points(args.input)
    clf = load_model(args.model)
    extra: dict = {}
    extra_attrs: dict = {}
    if hasattr(clf, "predict_gauge"):  # gauge models (chshml.models.gauge)
        from chshml.models.certified import certified_predict

        res = certified_predict(clf, points, args.certify, args.band_factor)
        label = res.label
        extra, extra_attrs = res.columns(), res.attrs()
    elif args.certify:
        raise InputError("--certify needs a gauge model (.npz): other models have no "
                         "predicted gauge to route by")
    else:
        label = clf.predict(points)
    local = is_local(to_full(points)) if points.shape[1] == 8 else np.zeros(len(points), bool)
    write_h5(args.output, {"points": points, "label": label.astype(np.int8), "local": local,
                           **extra},
             {**extra_attrs, "model": str(args.model), "model_kind": clf.meta.get("kind", "?"),
              "model_space": clf.space, "model_dataset": clf.meta.get("dataset", "?"),
              "input": str(args.input)}, inputs=inputs)
    print(f"chshml predict: {len(points)} points, {int(label.sum())} quantum -> {args.output}",
          file=sys.stderr)
    return 0
