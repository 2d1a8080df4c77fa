"""Slice accuracy (paper Figs. 3-5): predictions on labelled points of a 2-D slice.

The points and their true labels come from a slice file of the data stage (``chshml
slice``); this module maps them to the model's space and to slice coordinates ``(x, y)``.
A 4-D slice is embedded with zero marginals for 8-D models, where Q_n = Q = TLM.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from chshml.geometry import CORR_DIM, FULL_DIM, Slice, to_corr, to_full
from chshml.metrics import accuracy

Predict = Callable[[np.ndarray], np.ndarray]


@dataclass
class SliceResult:
    """Predictions on slice points ``xy`` against ``truth``; ``acc`` over decided labels."""

    name: str
    xy: np.ndarray
    truth: np.ndarray
    pred: np.ndarray
    acc: float


def slice_coordinates(sl: Slice, points: np.ndarray) -> np.ndarray:
    """Least-squares slice coordinates ``(x, y)`` of points lying on the plane of ``sl``."""
    basis = np.column_stack([sl.u, sl.v])
    pts = np.asarray(points, dtype=float)
    if pts.shape[1] != sl.dim:
        pts = to_corr(pts) if sl.dim == CORR_DIM else to_full(pts)
    sol, *_ = np.linalg.lstsq(basis, (pts - sl.origin).T, rcond=None)
    return sol.T


def evaluate_slice(predict: Predict, sl: Slice, dim: int, points: np.ndarray,
                   truth: np.ndarray) -> SliceResult:
    """Slice accuracy of ``predict`` (a model of ``dim``-D behaviours) on labelled points."""
    points, truth = np.asarray(points, dtype=float), np.asarray(truth)
    xy = slice_coordinates(sl, points)
    x = points
    if dim == FULL_DIM and points.shape[1] == CORR_DIM:
        x = to_full(points)
    elif dim == CORR_DIM and points.shape[1] == FULL_DIM:
        x = to_corr(points)
    pred = np.asarray(predict(x)).astype(np.int8)
    return SliceResult(sl.name, xy, truth.astype(np.int8), pred, accuracy(truth, pred))
