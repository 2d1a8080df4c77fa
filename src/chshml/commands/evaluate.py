"""``chshml evaluate MODEL --data DATA.h5 -o EVAL.json``: the paper's accuracy measures.

Test / train / validation accuracy on the model's dataset; unbalanced accuracy on a uniform
sample (a labelled file, or in 4-D generated with exact TLM labels); spread accuracy at
sigma = 1e-2, 1e-3 and a curve over [1e-4, 1e-1]; slice accuracy on 2x10^4 points per slice
against true labels (TLM on the zero-marginal slices, a labelled file for 8-D slices).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from chshml.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("evaluate", help="accuracies of a trained model (JSON)",
                              description=__doc__.splitlines()[0])
    p.add_argument("model", help="MODEL.joblib or MODEL.keras")
    p.add_argument("--data", required=True, help="the model's labelled dataset (with splits)")
    p.add_argument("-o", "--output", required=True, help="results/eval/{model}.json")
    p.add_argument("--uniform-test", help="labelled uniform sample (unbalanced accuracy)")
    p.add_argument("--spread", action="append", default=[], metavar="SIGMA=FILE",
                   help="labelled spread set for one sigma (else generated: exact in 4-D, "
                        "from the uniform test set's gauges in 8-D)")
    p.add_argument("--slice", action="append", default=[], metavar="NAME=FILE",
                   help="slice points with true labels (needed for 8-D slices)")
    p.add_argument("--slices-out", help="HDF5 with slice coordinates, truth and predictions")
    p.add_argument("--n-slice", type=int, default=20_000)
    p.add_argument("--n-spread", type=int, default=20_000)
    p.add_argument("--n-uniform", type=int, default=20_000)
    p.add_argument("--curve-points", type=int, default=13, help="sigmas in the spread curve")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", help="model name in the report (default: file stem)")
    p.set_defaults(run=run)


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"--{what} {item!r}: expected KEY=FILE")
        key, value = item.split("=", 1)
        out[key] = value
    return out


def _labelled(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    from chshml.models.training import load_dataset

    ds = load_dataset(path, need_split=False)
    return ds.points, ds.label, ds.lam


def run(args: argparse.Namespace) -> int:
    from chshml import evaluate as ev
    from chshml.geometry import CORR_DIM, SLICES
    from chshml.models.io import load_model, model_meta_path
    from chshml.models.training import load_dataset, package_versions
    from chshml.seeds import shard_rng
    from chshml.store import H5_SUFFIXES, check_output, write_h5, write_text

    inputs = [args.model, model_meta_path(args.model), args.data, args.uniform_test,
              *_pairs(args.spread, "spread").values(), *_pairs(args.slice, "slice").values()]
    check_output(args.output, inputs, suffixes=(".json",))
    if args.slices_out:
        check_output(args.slices_out, [*inputs, args.output], "--slices-out",
                     suffixes=H5_SUFFIXES)
    for opt in ("n_slice", "n_spread", "n_uniform", "curve_points"):
        if getattr(args, opt) < 1:
            raise InputError(f"--{opt.replace('_', '-')} must be >= 1, got {getattr(args, opt)}")
    if not 0 <= args.seed < 2**63:
        raise InputError(f"--seed must be in [0, 2^63), got {args.seed}")
    for key in _pairs(args.spread, "spread"):
        try:
            float(key)
        except ValueError:
            raise InputError(f"--spread {key}=...: SIGMA must be a number") from None
    t0 = time.perf_counter()
    clf = load_model(args.model)
    ds = load_dataset(args.data)
    name = args.name or Path(args.model).stem
    rng = shard_rng(args.seed, f"evaluate:{name}")
    dim = clf.dim
    notes: list[str] = []
    out: dict = {"model": name, "model_file": str(args.model), "kind": clf.meta.get("kind"),
                 "dataset": ds.name, "space": clf.space, "seed": args.seed,
                 "model_meta": {k: clf.meta.get(k) for k in
                                ("chosen", "config", "timings", "n_train_used",
                                 "fold_symmetry", "recipe", "split_group")},
                 "recipe": str(ds.attrs.get("recipe", "")),
                 "level": str(ds.attrs.get("level", ""))}
    for part in ("train", "val", "test"):
        x, y = ds.part(part)
        out[part] = ev.scores(y, clf.predict(x))

    # unbalanced accuracy: a uniform NS sample (8-D: the canonical simplex)
    uni_lam = None
    if args.uniform_test:
        x, y, uni_lam = _labelled(args.uniform_test)
        out["unbalanced"] = {**ev.scores(y, clf.predict(x)), "source": args.uniform_test}
    elif dim == CORR_DIM:
        x = ev.uniform_ns(args.n_uniform, CORR_DIM, rng)
        out["unbalanced"] = {**ev.scores(ev.tlm_labels(x), clf.predict(x)),
                             "source": "generated: uniform cube, TLM labels"}
        uni_lam = None
    else:
        out["unbalanced"] = None
        notes.append("no uniform test set given: unbalanced accuracy not measured")

    if out["unbalanced"] is not None and dim != CORR_DIM:
        # the paper's 8-D "global accuracy": NS-wide, local points (16/17 of NS) counted as
        # correct, each of the 8 nonlocal simplices like the canonical one (symmetry)
        out["unbalanced_ns_wide"] = ev.ns_wide_accuracy(out["unbalanced"]["acc"],
                                                        out["unbalanced"]["n"])

    # spread test: the curve uses the boundary points of the spread sets themselves (same
    # measure as the table); else the same surface measure generated (4-D, exact TLM)
    files = {float(k): v for k, v in _pairs(args.spread, "spread").items()}
    boundary, recipe = None, "paper"
    for sigma_file in files.values():
        from chshml.store import read_h5

        sdata, sattrs = read_h5(sigma_file)
        recipe = str(sattrs.get("recipe", recipe))
        if "boundary" in sdata and len(sdata["boundary"]):
            boundary = np.asarray(sdata["boundary"], dtype=float)
            if boundary.shape[1] != dim:
                boundary = None
                continue
            source = f"boundary points of {sigma_file} (the spread sets' measure)"
            break
    if boundary is not None:
        pass
    elif dim == CORR_DIM:
        boundary = ev.boundary_4d(args.n_spread, rng, recipe)
        source = (f"generated: uniform on the TLM boundary surface (recipe {recipe}, "
                  "the spread sets' measure)")
    else:
        if uni_lam is not None:
            x, _, _ = _labelled(args.uniform_test)
            boundary = ev.boundary_from_gauge(x, uni_lam)
            boundary = boundary[~ev.is_local(boundary)] if len(boundary) else boundary
            source = f"gauges of {args.uniform_test}"
        if boundary is None or len(boundary) == 0:
            notes.append("no 8-D gauges available: generated spread sets skipped")
            boundary = None
    spread = {}
    for sigma in ev.SPREAD_SIGMAS:
        if sigma in files:
            x, y, _ = _labelled(files[sigma])
            spread[f"{sigma:g}"] = {**ev.scores(y, clf.predict(x)), "source": files[sigma]}
        elif boundary is not None:
            x, y = ev.spread_points(boundary, sigma, rng)
            spread[f"{sigma:g}"] = {**ev.scores(y, clf.predict(x)), "source": source}
    out["spread"] = spread
    if boundary is not None:
        sigmas = tuple(float(s) for s in np.logspace(-4, -1, args.curve_points))
        out["spread_curve"] = {"sigma": list(sigmas), "n": int(len(boundary)),
                               "acc": ev.spread_curve(clf.predict, boundary, sigmas, rng),
                               "source": source, "recipe": recipe}

    # slices
    slice_files = _pairs(args.slice, "slice")
    wanted = ["slice1", "slice2"] + ([] if dim == CORR_DIM else ["slice8"])
    slice_results = []
    for sname in wanted:
        sl = SLICES[sname]
        data = None
        if sname in slice_files:
            x, y, _ = _labelled(slice_files[sname])
            data = (x, y)
        elif sl.dim != CORR_DIM:
            notes.append(f"{sname}: no labelled slice file (true labels need NPA level 3)")
            continue
        res = ev.evaluate_slice(clf.predict, sl, dim, args.n_slice, rng, data)
        slice_results.append(res)
    out["slices"] = {r.name: {"acc": r.acc, "n": int(np.sum(r.truth >= 0))}
                     for r in slice_results}
    if args.slices_out:
        blobs = {}
        for r in slice_results:
            blobs.update({f"{r.name}/xy": r.xy, f"{r.name}/truth": r.truth,
                          f"{r.name}/pred": r.pred})
        write_h5(args.slices_out, blobs, {"model": name, "space": clf.space}, inputs=inputs,
                 option="--slices-out")
    out["notes"] = notes
    out["package_versions"] = package_versions()
    out["timings"] = {"evaluate_seconds": time.perf_counter() - t0}
    text = ev_json(out)
    write_text(args.output, text, inputs)
    print(f"chshml evaluate: {name}: test {out['test']['acc']:.4f} -> {args.output}",
          file=sys.stderr)
    return 0


def ev_json(obj: dict) -> str:
    """JSON with NaN written as null."""
    import json
    import math

    def clean(o: object) -> object:
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [clean(v) for v in o]
        if isinstance(o, float) and math.isnan(o):
            return None
        if hasattr(o, "item"):
            return clean(o.item())
        return o

    return json.dumps(clean(obj), indent=2) + "\n"
