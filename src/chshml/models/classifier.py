"""Trained classifiers of Q and their loading by file type (the paper's 8-D scheme).

``.joblib`` -> SVM, ``.keras`` -> network (TensorFlow imported only then), ``.npz`` -> gauge
model. Each model has a metadata JSON beside it (:mod:`chshml.models.metadata`) naming its
space: ``corr4`` models see correlators in the cube; ``full8`` models were trained in the
canonical nonlocal simplex, so :meth:`Classifier.predict` calls local behaviours quantum and
maps the others onto the canonical simplex with the relabelling group before the model sees
them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from chshml.errors import InputError
from chshml.geometry import (
    CORR_DIM,
    FULL_DIM,
    fundamental_domain,
    is_local,
    to_canonical,
    to_corr,
    to_full,
)

MODEL_SUFFIXES = {".joblib": "svm", ".keras": "nn", ".npz": "gauge"}


def model_domain_map(points: np.ndarray, fold: bool) -> np.ndarray:
    """Nonlocal 8-D behaviours in a full8 model's domain: relabelled onto the canonical
    nonlocal simplex (the paper's scheme) and, with ``fold``, further onto one representative
    of the simplex's 16 symmetries (:func:`chshml.geometry.fundamental_domain`; our option,
    not the paper's).
    """
    if fold:
        return fundamental_domain(points)
    return to_canonical(np.asarray(points, dtype=float))[0]


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
        existed were folded), onto :func:`chshml.geometry.fundamental_domain`.
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
                points = to_corr(points)
            return self.predict_raw(points)
        if points.shape[1] == CORR_DIM:
            points = to_full(points)
        out = np.ones(len(points), dtype=np.int8)
        nonlocal_ = ~is_local(points)
        if nonlocal_.any():
            fold = bool(self.meta.get("fold_symmetry", True))
            out[nonlocal_] = self.predict_raw(model_domain_map(points[nonlocal_], fold))
        return out
