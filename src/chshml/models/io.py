"""Loading models by file type and predicting on any behaviour (the paper's 8-D scheme).

``.joblib`` -> SVM, ``.keras`` -> network (TensorFlow imported only then). Each model has a
metadata JSON beside it (``MODEL.json``) naming its space: ``corr4`` models see correlators in
the cube; ``full8`` models were trained in the canonical nonlocal simplex, so
:meth:`Classifier.predict` calls local behaviours quantum and maps the others onto the
canonical simplex with the relabelling group before the model sees them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from chshml.errors import InputError
from chshml.geometry import (
    CANONICAL_CHSH_SIGNS,
    CORR_DIM,
    FULL_DIM,
    RELABELLINGS,
    is_local,
    to_canonical,
    to_full,
)

MODEL_SUFFIXES = {".joblib": "svm", ".keras": "nn", ".npz": "gauge"}

#: The 16 relabellings that map the canonical CHSH facet (and its simplex) onto itself.
STABILISER = RELABELLINGS[np.all(np.isclose(RELABELLINGS @ to_full(CANONICAL_CHSH_SIGNS),
                                            to_full(CANONICAL_CHSH_SIGNS)), axis=1)]


def fundamental_domain(points: np.ndarray) -> np.ndarray:
    """One representative per relabelling orbit of nonlocal 8-D behaviours.

    Maps each point onto the canonical nonlocal simplex (the paper's scheme), then picks the
    lexicographically largest of its images under the simplex's own 16 symmetries. Signed
    permutations are exact in floating point, so a point and all its relabelled images get
    the same representative, and any model sees them as one point.
    """
    canon, _ = to_canonical(np.asarray(points, dtype=float))
    images = np.einsum("gij,nj->ngi", STABILISER, canon)
    candidates = np.ones(images.shape[:2], dtype=bool)
    for k in range(FULL_DIM):
        col = np.where(candidates, images[:, :, k], -np.inf)
        candidates &= col == col.max(axis=1, keepdims=True)
    return images[np.arange(len(images)), np.argmax(candidates, axis=1)]


def model_domain_map(points: np.ndarray, fold: bool) -> np.ndarray:
    """Nonlocal 8-D behaviours in a full8 model's domain: relabelled onto the canonical
    nonlocal simplex (the paper's scheme) and, with ``fold``, further onto one representative
    of the simplex's 16 symmetries (:func:`fundamental_domain`; our option, not the paper's)."""
    if fold:
        return fundamental_domain(points)
    return to_canonical(np.asarray(points, dtype=float))[0]


def model_meta_path(path: str | Path) -> Path:
    """The metadata JSON of a model file: ``MODEL.joblib`` -> ``MODEL.json``."""
    return Path(path).with_suffix(".json")


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_with_meta(path: str | Path, meta: dict, dump: Callable[[Path], None],
                   inputs: tuple = ()) -> None:
    """Save a model and its metadata JSON as one unit.

    The model goes to a temporary file first; the JSON (with the model's SHA-256 as
    ``model_sha256``) is renamed into place next, the model last. A kill at any point leaves
    either the old pair or a JSON whose hash does not match the model, which
    :func:`load_model` refuses; it never leaves a pair that looks valid and is not.
    """
    from chshml.store import atomic_path, check_output

    meta_path = model_meta_path(path)
    check_output(meta_path, inputs, "-o (metadata JSON)")
    with atomic_path(path, inputs, keep_suffix=True) as tmp:
        dump(tmp)
        meta = dict(meta, model_sha256=file_sha256(tmp), model_file=Path(path).name)
        text = json.dumps(meta, indent=2, sort_keys=False,
                          default=lambda o: o.item() if hasattr(o, "item") else str(o))
        with atomic_path(meta_path, inputs, "-o (metadata JSON)") as tmp_meta:
            tmp_meta.write_text(text + "\n")


def read_meta(path: str | Path) -> dict:
    """The metadata of model ``path``; a missing, unreadable or stale JSON is an InputError."""
    p = model_meta_path(path)
    if not p.is_file():
        raise InputError(f"{path}: its metadata {p} is missing (chshml train writes both; "
                         "retrain or restore the JSON)")
    try:
        meta = json.loads(p.read_text())
    except (OSError, ValueError) as err:
        raise InputError(f"{p}: cannot read the model metadata ({err})") from None
    if not isinstance(meta, dict) or meta.get("space") not in ("corr4", "full8"):
        raise InputError(f"{p}: not the metadata of a chshml model (no space corr4/full8)")
    want = meta.get("model_sha256")
    if want is not None and file_sha256(path) != want:
        raise InputError(f"{path} does not match its metadata {p} (interrupted save?); "
                         "retrain the model")
    return meta


class Classifier:
    """A trained model with its metadata; ``predict`` takes behaviours of any space."""

    def __init__(self, raw: Callable[[np.ndarray], np.ndarray], meta: dict,
                 model: Any = None, path: Path | None = None) -> None:
        self._raw = raw
        self.meta = meta
        self.model = model
        self.path = path

    @property
    def space(self) -> str:
        return str(self.meta["space"])

    @property
    def dim(self) -> int:
        return CORR_DIM if self.space == "corr4" else FULL_DIM

    def predict_raw(self, x: np.ndarray) -> np.ndarray:
        """The model itself on points of its training domain (no relabelling)."""
        x = np.asarray(x, dtype=float)
        if len(x) == 0:
            return np.zeros(0, dtype=np.int8)
        return np.asarray(self._raw(x)).astype(np.int8)

    def predict(self, points: np.ndarray) -> np.ndarray:
        """Labels (1 quantum, 0 not) of 4-D or 8-D behaviours.

        corr4 models: 8-D input must have zero marginals. full8 models: local points are
        quantum; the others are relabelled onto the canonical nonlocal simplex first and,
        for models trained with ``fold_symmetry`` (metadata; models saved before the option
        existed were folded), onto :func:`fundamental_domain`.
        """
        points = np.asarray(points, dtype=float)
        if points.ndim != 2 or points.shape[1] not in (CORR_DIM, FULL_DIM):
            raise InputError(f"points must be n x 4 or n x 8, got shape {points.shape}")
        if self.dim == CORR_DIM:
            if points.shape[1] == FULL_DIM:
                if np.any(points[:, :4] != 0):
                    row = int(np.flatnonzero(np.any(points[:, :4] != 0, axis=1))[0])
                    raise InputError(f"row {row}: a correlation-space (corr4) model needs "
                                     "zero marginals")
                points = points[:, 4:]
            return self.predict_raw(points)
        if points.shape[1] == CORR_DIM:
            points = np.hstack([np.zeros((len(points), 4)), points])
        out = np.ones(len(points), dtype=np.int8)
        nonlocal_ = ~is_local(points)
        if nonlocal_.any():
            fold = bool(self.meta.get("fold_symmetry", True))
            out[nonlocal_] = self.predict_raw(model_domain_map(points[nonlocal_], fold))
        return out


def load_model(path: str | Path) -> Classifier:
    """Load a ``.joblib`` (SVM), ``.keras`` (network) or ``.npz`` (gauge) model and its metadata."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"model file not found: {path}")
    kind = MODEL_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(f"{path}: unknown model type (expected {sorted(MODEL_SUFFIXES)})")
    meta = read_meta(path)
    try:
        if kind == "gauge":  # chshml.models.gauge: predicted gauge, label = (lam >= 1)
            from chshml.models.gauge import load_gauge

            return load_gauge(path, meta)
        if kind == "svm":
            from chshml.models.svm import load_svm, predict_svm

            model = load_svm(path)
            if not hasattr(model, "predict"):
                raise TypeError(f"holds a {type(model).__name__}, not a classifier")
            return Classifier(lambda x: predict_svm(model, x), meta, model, path)
        from chshml.models.nn import load_nn, predict_nn

        model = load_nn(path)
    except InputError:
        raise
    except Exception as err:  # noqa: BLE001 - any failure to deserialise user input
        raise InputError(f"{path}: cannot load the model ({type(err).__name__}: {err})") from None
    return Classifier(lambda x: predict_nn(model, x), meta, model, path)
