"""Scores of a classifier of Q: accuracy, balanced accuracy and Monte Carlo standard errors.

Label 1 = quantum, 0 = not quantum, -1 = undecided: undecided labels are left out of every
score and counted. Models import this module; the evaluation protocol builds on it.
"""

from __future__ import annotations

import numpy as np


def _pair(y: np.ndarray, yhat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels and predictions as flat int arrays, rows with an undecided label dropped."""
    y = np.asarray(y).astype(int).ravel()
    yhat = np.asarray(yhat).astype(int).ravel()
    if y.shape != yhat.shape:
        raise ValueError(f"{len(y)} labels but {len(yhat)} predictions")
    keep = y >= 0
    return y[keep], yhat[keep]


def accuracy(y: np.ndarray, yhat: np.ndarray) -> float:
    """Fraction of decided labels (0/1) predicted correctly; NaN if there are none."""
    y, yhat = _pair(y, yhat)
    return float(np.mean(y == yhat)) if len(y) else float("nan")


def balanced_accuracy(y: np.ndarray, yhat: np.ndarray) -> float:
    """Mean over the classes present of the per-class recall (scikit-learn's definition)."""
    y, yhat = _pair(y, yhat)
    if not len(y):
        return float("nan")
    recalls = [np.mean(yhat[y == c] == c) for c in np.unique(y)]
    return float(np.mean(recalls))


def binomial_se(p: float, n: int) -> float:
    """Standard error ``sqrt(p (1 - p) / n)`` of a Monte Carlo fraction."""
    return float(np.sqrt(max(p * (1 - p), 0.0) / n)) if n else float("nan")


def scores(y: np.ndarray, yhat: np.ndarray) -> dict[str, float | int]:
    """Accuracy, balanced accuracy, decided count and undecided count."""
    y = np.asarray(y)
    return {"acc": accuracy(y, yhat), "balanced_acc": balanced_accuracy(y, yhat),
            "n": int(np.sum(y >= 0)), "n_undecided": int(np.sum(y < 0))}
