"""From a labelled dataset file to a saved model: splits, domain mapping, metadata.

Datasets are read by :func:`chshml.store.load_dataset`: ``points``, ``label``, the split
``idx_train``, ``idx_val``, ``idx_test`` as ``chshml merge`` writes it, and attributes.
Undecided labels (-1) are never trained on. 8-D (full8) models live in the canonical
nonlocal simplex: local points are dropped from training (prediction calls them quantum
without asking the model) and nonlocal ones are relabelled onto the canonical simplex and
then to one representative of their orbit under the simplex's 16 symmetries
(:func:`chshml.geometry.fundamental_domain`), exactly as at prediction.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from chshml.errors import InputError
from chshml.geometry import CORR_DIM, is_local
from chshml.models.classifier import model_domain_map
from chshml.models.metadata import model_meta_path
from chshml.store import MODEL_PACKAGES, attr_to_json, check_output, load_dataset, package_versions


def model_domain(points: np.ndarray, labels: np.ndarray,
                 fold: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Training pairs in the model's domain: decided labels; in 8-D nonlocal points mapped onto
    the canonical nonlocal simplex (and, with ``fold``, onto one of its 16 symmetric images).
    """
    keep = np.asarray(labels) >= 0
    x, y = np.asarray(points, dtype=float)[keep], np.asarray(labels)[keep].astype(np.int8)
    if x.shape[1] == CORR_DIM:
        return x, y
    nonlocal_ = ~is_local(x)
    return model_domain_map(x[nonlocal_], fold), y[nonlocal_]


def train_model(kind: str, data_path: str | Path, out: str | Path,
                config: dict | None = None, inputs: tuple = ()) -> dict:
    """Train an ``svm`` or ``nn`` on a dataset file and save it; returns the metadata.
    ``inputs`` (besides ``data_path``) are files the model and its JSON must not replace.
    """
    want = {"svm": ".joblib", "nn": ".keras"}.get(kind)
    if want is None:
        raise InputError(f"unknown model kind {kind!r} (svm or nn)")
    if Path(out).suffix != want:
        raise InputError(f"-o {out}: {'an SVM' if kind == 'svm' else 'a network'} is saved "
                         f"as {want}")
    inputs = (data_path, *inputs)
    check_output(out, inputs)
    check_output(model_meta_path(out), inputs, "-o (metadata JSON)")
    ds = load_dataset(data_path)
    config = dict(config or {})
    fold = bool(config.get("fold_symmetry", False))
    x_tr, y_tr = model_domain(*ds.part("train"), fold=fold)
    x_va, y_va = model_domain(*ds.part("val"), fold=fold)
    if len(np.unique(y_tr)) < 2 or len(y_va) == 0:
        raise InputError(f"{ds.path}: training split needs both classes and a validation split")
    t0 = time.perf_counter()
    out = Path(out)
    if kind == "svm":
        from chshml.models.svm import SVMConfig, save_svm, train_svm

        cfg = SVMConfig.from_dict(config)
        if cfg.max_train and len(x_tr) > cfg.max_train:
            x_tr, y_tr = x_tr[:cfg.max_train], y_tr[:cfg.max_train]
        if out.suffix != ".joblib":
            raise InputError(f"{out}: an SVM is saved as .joblib")
        model, meta = train_svm(x_tr, y_tr, x_va, y_va, cfg)
        save = save_svm
    elif kind == "nn":
        if out.suffix != ".keras":
            raise InputError(f"{out}: a network is saved as .keras")
        from chshml.models.nn import NNConfig, save_nn, train_nn

        cfg = NNConfig.from_dict(config)
        model, meta = train_nn(x_tr, y_tr, x_va, y_va, cfg)
        save = save_nn
    else:
        raise InputError(f"unknown model kind {kind!r} (svm or nn)")
    meta.update({
        "dataset": ds.name, "data_file": str(ds.path), "space": ds.space, "dim": ds.dim,
        "domain": "cube" if ds.dim == CORR_DIM else "canonical_simplex",
        "data_attrs": {k: attr_to_json(v) for k, v in ds.attrs.items()},
        "n_train_used": int(len(y_tr)), "n_val_used": int(len(y_va)),
        "fold_symmetry": fold, "recipe": attr_to_json(ds.attrs.get("recipe", "")),
        "split_group": attr_to_json(ds.attrs.get("split_group", 1)),
        "train_quantum_fraction": float(np.mean(y_tr == 1)),
        "package_versions": package_versions(MODEL_PACKAGES),
    })
    meta.setdefault("timings", {})["total_seconds"] = time.perf_counter() - t0
    save(model, meta, out, inputs)
    return meta
