"""From a labelled dataset file to a saved model: splits, domain mapping, metadata.

Datasets follow the workflow contract: ``points``, ``label``, the split ``idx_train``,
``idx_val``, ``idx_test`` as ``chshml merge`` writes it (``train_idx`` etc. accepted too) and
attributes. Undecided labels (-1) are never trained on. 8-D (full8) models live in the
canonical nonlocal simplex: local points are dropped from training (prediction calls them
quantum without asking the model) and nonlocal ones are relabelled onto the canonical simplex
and then to one representative of their orbit under the simplex's 16 symmetries
(:func:`chshml.models.io.fundamental_domain`), exactly as at prediction.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from chshml.errors import InputError
from chshml.geometry import CORR_DIM, is_local, space_of_dim
from chshml.store import attr_to_json

VERSIONED = ("chshml", "numpy", "scipy", "scikit-learn", "joblib", "h5py", "keras",
             "tensorflow", "tensorflow-cpu")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a model depends on (without importing them)."""
    out = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


@dataclass
class Dataset:
    """A labelled dataset and its 70/15/15 split."""

    name: str
    path: Path
    points: np.ndarray
    label: np.ndarray
    lam: np.ndarray | None
    split: dict[str, np.ndarray]
    attrs: dict[str, Any]

    @property
    def dim(self) -> int:
        return self.points.shape[1]

    @property
    def space(self) -> str:
        return space_of_dim(self.dim)

    def part(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """``(points, labels)`` of split ``which`` ("train", "val", "test" or "all")."""
        if which == "all":
            return self.points, self.label
        idx = self.split[which]
        return self.points[idx], self.label[idx]


def check_outside_ns(points: np.ndarray, label: np.ndarray, source: str) -> None:
    """Points outside NS are refused with label 1: no behaviour is quantum.

    The paper's boundary-pair and spread recipes keep outer points ``(1 + eps) p_b`` that
    leave NS (label 0, their labeller witness a bare NS facet; label -1, undecided, where
    ``|lam - 1|`` is within the tolerance, e.g. a spread shift of ~1e-7 across an NS facet:
    left out of every accuracy like any undecided point). A label 1 there is an error.
    """
    from chshml.geometry import ns_violation
    from chshml.store import NS_INPUT_TOL

    bad = np.flatnonzero((ns_violation(points) > NS_INPUT_TOL) & (label == 1))
    if len(bad):
        row = int(bad[0])
        raise InputError(f"{source}: row {row} is outside the non-signalling polytope but "
                         f"labelled {int(label[row])} (quantum): no point outside NS is quantum")


def load_dataset(path: str | Path, need_split: bool = True) -> Dataset:
    """Read a labelled dataset; raise :class:`InputError` on anything missing or inconsistent."""
    from chshml.store import read_input_h5, validate_points

    path = Path(path)
    data, attrs = read_input_h5(path, "dataset")
    for key in ("points", "label"):
        if key not in data:
            raise InputError(f"{path}: no dataset {key!r} (found {sorted(data)})")
    points = validate_points(data["points"], str(path), check_ns=False)
    label = np.asarray(data["label"]).astype(np.int8).ravel()
    if len(label) != len(points):
        raise InputError(f"{path}: {len(label)} labels for {len(points)} points")
    check_outside_ns(points, label, str(path))
    split = {}
    for name in ("train", "val", "test"):
        key = f"idx_{name}" if f"idx_{name}" in data else f"{name}_idx"  # merge writes idx_*
        if key in data:
            idx = np.asarray(data[key]).astype(np.int64).ravel()
            if len(idx) and (idx.min() < 0 or idx.max() >= len(points)):
                raise InputError(f"{path}: {key} indexes outside 0..{len(points) - 1}")
            split[name] = idx
        elif need_split:
            raise InputError(f"{path}: no split 'idx_{name}'; merge the dataset with a split")
    lam = np.asarray(data["lam"], dtype=float).ravel() if "lam" in data else None
    name = str(attrs.get("dataset", path.stem))
    return Dataset(name, path, points, label, lam, split, attrs)


def model_domain(points: np.ndarray, labels: np.ndarray,
                 fold: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Training pairs in the model's domain: decided labels; in 8-D nonlocal points mapped onto
    the canonical nonlocal simplex (and, with ``fold``, onto one of its 16 symmetric images)."""
    keep = np.asarray(labels) >= 0
    x, y = np.asarray(points, dtype=float)[keep], np.asarray(labels)[keep].astype(np.int8)
    if x.shape[1] == CORR_DIM:
        return x, y
    from chshml.models.io import model_domain_map

    nonlocal_ = ~is_local(x)
    return model_domain_map(x[nonlocal_], fold), y[nonlocal_]


def train_model(kind: str, data_path: str | Path, out: str | Path,
                config: dict | None = None, inputs: tuple = ()) -> dict:
    """Train an ``svm`` or ``nn`` on a dataset file and save it; returns the metadata.
    ``inputs`` (besides ``data_path``) are files the model and its JSON must not replace."""
    from chshml.models.io import model_meta_path
    from chshml.store import check_output

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
        "package_versions": package_versions(),
    })
    meta.setdefault("timings", {})["total_seconds"] = time.perf_counter() - t0
    save(model, meta, out, inputs)
    return meta
