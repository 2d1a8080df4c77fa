"""``chshml evaluate MODEL --data DATA.h5 -o EVAL.json``: the paper's accuracy measures.

Test / train / validation accuracy on the model's dataset; unbalanced accuracy on a labelled
uniform sample; spread accuracy at sigma = 1e-2, 1e-3 on labelled spread sets and a curve over
[1e-4, 1e-1] on their boundary points; slice accuracy on labelled slice files. Every test set
comes from a file given here; a set not given is reported as not measured (JSON ``notes``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from chshml.commands._args import key_value
from chshml.errors import InputError

_IGNORED = "accepted and ignored: the set comes from a file"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("evaluate", help="accuracies of a trained model (JSON)",
                              description=__doc__.splitlines()[0])
    p.add_argument("model", help="MODEL.joblib, MODEL.keras or MODEL.npz")
    p.add_argument("--data", required=True, help="the model's labelled dataset (with splits)")
    p.add_argument("-o", "--output", required=True, help="results/eval/{model}.json")
    p.add_argument("--uniform-test", help="labelled uniform sample (unbalanced accuracy)")
    p.add_argument("--spread", action="append", default=[], metavar="SIGMA=FILE",
                   type=key_value,
                   help="labelled spread set for one sigma; its 'boundary' points (if stored) "
                        "feed the spread curve")
    p.add_argument("--slice", action="append", default=[], metavar="NAME=FILE", type=key_value,
                   help="labelled slice points (NAME: slice1, slice2, slice8)")
    p.add_argument("--slices-out", help="HDF5 with slice coordinates, truth and predictions")
    p.add_argument("--n-slice", type=int, default=20_000, help=_IGNORED)
    p.add_argument("--n-spread", type=int, default=20_000, help=_IGNORED)
    p.add_argument("--n-uniform", type=int, default=20_000, help=_IGNORED)
    p.add_argument("--curve-points", type=int, default=13, help="sigmas in the spread curve")
    p.add_argument("--seed", type=int, default=0, help="seed of the spread curve's shifts")
    p.add_argument("--name", help="model name in the report (default: file stem)")
    p.set_defaults(run=run)


def _check(args: argparse.Namespace) -> tuple[dict[float, str], dict[str, str]]:
    """Option errors as :class:`InputError`; returns the spread and slice files."""
    for opt in ("n_slice", "n_spread", "n_uniform", "curve_points"):
        if getattr(args, opt) < 1:
            raise InputError(f"--{opt.replace('_', '-')} must be >= 1, got {getattr(args, opt)}")
    if not 0 <= args.seed < 2**63:
        raise InputError(f"--seed must be in [0, 2^63), got {args.seed}")
    spread = {}
    for key, path in args.spread:
        try:
            spread[float(key)] = path
        except ValueError:
            raise InputError(f"--spread {key}=...: SIGMA must be a number") from None
    return spread, dict(args.slice)


def run(args: argparse.Namespace) -> int:
    from chshml.evaluation import evaluate_model, load_test_sets
    from chshml.models import load_model, model_meta_path
    from chshml.seeds import shard_rng
    from chshml.store import H5_SUFFIXES, check_output, load_dataset, write_h5, write_text

    inputs = [args.model, model_meta_path(args.model), args.data, args.uniform_test,
              *(f for _, f in args.spread), *(f for _, f in args.slice)]
    check_output(args.output, inputs, suffixes=(".json",))
    if args.slices_out:
        check_output(args.slices_out, [*inputs, args.output], "--slices-out",
                     suffixes=H5_SUFFIXES)
    spread, slices = _check(args)
    t0 = time.perf_counter()
    clf = load_model(args.model)
    ds = load_dataset(args.data)
    name = args.name or Path(args.model).stem
    sets = load_test_sets(args.uniform_test, spread, slices)
    res = evaluate_model(clf, ds, sets, shard_rng(args.seed, f"evaluate:{name}"), name=name,
                         model_file=str(args.model), seed=args.seed,
                         curve_points=args.curve_points, started=t0)
    if args.slices_out:
        blobs = {f"{r.name}/{k}": v for r in res.slice_results
                 for k, v in (("xy", r.xy), ("truth", r.truth), ("pred", r.pred))}
        write_h5(args.slices_out, blobs, {"model": name, "space": clf.space}, inputs=inputs,
                 option="--slices-out")
    write_text(args.output, res.to_json(), inputs)
    print(f"chshml evaluate: {name}: test {res.test['acc']:.4f} -> {args.output}",
          file=sys.stderr)
    return 0
