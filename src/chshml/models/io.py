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

MODEL_SUFFIXES = {".joblib": "svm", ".keras": "nn"}

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


def model_meta_path(path: str | Path) -> Path:
    """The metadata JSON of a model file: ``MODEL.joblib`` -> ``MODEL.json``."""
    return Path(path).with_suffix(".json")


def write_meta(path: str | Path, meta: dict) -> None:
    """Write the metadata JSON of model ``path`` atomically."""
    from chshml.store import atomic_path

    text = json.dumps(meta, indent=2, sort_keys=False,
                      default=lambda o: o.item() if hasattr(o, "item") else str(o))
    with atomic_path(model_meta_path(path)) as tmp:
        tmp.write_text(text + "\n")


def read_meta(path: str | Path) -> dict:
    """The metadata of model ``path`` ({} if the JSON is missing)."""
    p = model_meta_path(path)
    return json.loads(p.read_text()) if p.is_file() else {}


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
        return self.meta.get("space", "corr4" if self.meta.get("dim") == CORR_DIM else "full8")

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
        quantum; the others are relabelled onto the canonical nonlocal simplex first
        (:func:`fundamental_domain`), so relabelled images of a point get one answer.
        """
        points = np.asarray(points, dtype=float)
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
            out[nonlocal_] = self.predict_raw(fundamental_domain(points[nonlocal_]))
        return out


def load_model(path: str | Path) -> Classifier:
    """Load a ``.joblib`` (SVM) or ``.keras`` (network) model and its metadata."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"model file not found: {path}")
    kind = MODEL_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(f"{path}: unknown model type (expected {sorted(MODEL_SUFFIXES)})")
    meta = read_meta(path)
    if kind == "svm":
        from chshml.models.svm import load_svm, predict_svm

        model = load_svm(path)
        return Classifier(lambda x: predict_svm(model, x), meta, model, path)
    from chshml.models.nn import load_nn, predict_nn

    model = load_nn(path)
    return Classifier(lambda x: predict_nn(model, x), meta, model, path)
