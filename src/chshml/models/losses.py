"""Loss functions for the two-class (softmax) quantum / not-quantum networks.

Semantics of the focal loss ``FL(p_t) = -alpha_t (1 - p_t)^gamma log p_t`` (the paper's
Ref. [41]). Two readings of alpha exist, both implemented:

* ``alpha_mode="scalar"`` (default; this is what the paper's ``alpha = 1e-2`` means here):
  ``alpha_t = alpha`` for both classes, as Keras' ``CategoricalFocalCrossentropy(alpha=0.01)``
  applies it to the paper's two-unit softmax output. It multiplies the whole loss by a
  constant, which Adam ignores: it rebalances nothing; ``gamma = 2`` does the work. Why this
  reading: the paper's network has a two-unit softmax (Keras' categorical focal loss, scalar
  alpha), and its unbalanced model reaches 0.998 accuracy on uniform data, whereas the per-
  class reading below with alpha = 1e-2 weights the minority class 99:1 against a 12:1
  imbalance and, measured on 4-D TLM data, drops uniform accuracy to ~0.84.
* ``alpha_mode="class"`` (Lin et al.): ``alpha`` on the quantum class (label 1, the majority of
  uniform NS samples, ~92.5 % in 4-D) and ``1 - alpha`` on the other: a real rebalancing.

The numpy reference :func:`focal_loss_np` needs no TensorFlow; :func:`make_loss` builds the
Keras loss and imports Keras only when called.
"""

from __future__ import annotations

from typing import Any

import numpy as np

LOSSES = ("focal", "bce", "balanced_bce")
EPS = 1e-7


def class_alpha(alpha: float, mode: str = "class") -> np.ndarray:
    """Per-class weights ``(w_0, w_1)``: ``(1 - alpha, alpha)`` per class, ``(alpha, alpha)``
    for the scalar (Keras) reading.
    """
    if mode == "class":
        return np.array([1.0 - alpha, alpha])
    if mode == "scalar":
        return np.array([alpha, alpha])
    raise ValueError(f"alpha_mode must be 'class' or 'scalar', got {mode!r}")


def focal_loss_np(y: np.ndarray, p1: np.ndarray, alpha: float = 1e-2, gamma: float = 2.0,
                  alpha_mode: str = "scalar") -> np.ndarray:
    """Per-sample focal loss for labels ``y`` (0/1) and predicted quantum probability ``p1``."""
    y = np.asarray(y, dtype=int)
    p1 = np.clip(np.asarray(p1, dtype=float), EPS, 1 - EPS)
    pt = np.where(y == 1, p1, 1 - p1)
    w = class_alpha(alpha, alpha_mode)[y]
    return -w * (1 - pt) ** gamma * np.log(pt)


def balanced_class_weights(y: np.ndarray) -> np.ndarray:
    """Weights ``n / (2 n_c)`` that give both classes the same total weight."""
    y = np.asarray(y, dtype=int)
    counts = np.bincount(y, minlength=2).astype(float)
    if (counts == 0).any():
        return np.ones(2)
    return len(y) / (2.0 * counts)


def make_loss(name: str, y_train: np.ndarray | None = None, alpha: float = 1e-2,
              gamma: float = 2.0, alpha_mode: str = "scalar") -> Any:
    """The Keras loss ``name`` for one-hot targets over (not quantum, quantum).

    ``balanced_bce`` weights each class by ``n / (2 n_c)`` counted on ``y_train``.
    """
    from keras import ops

    if name not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {name!r}")
    if name == "focal":
        weights = class_alpha(alpha, alpha_mode)
    elif name == "balanced_bce":
        if y_train is None:
            raise ValueError("balanced_bce needs the training labels")
        weights = balanced_class_weights(y_train)
    else:
        weights = np.ones(2)
    g = 0.0 if name != "focal" else float(gamma)
    w = ops.convert_to_tensor(weights.astype("float32"))

    def loss(y_true: Any, y_pred: Any) -> Any:
        y_true = ops.cast(y_true, "float32")
        p = ops.clip(y_pred, EPS, 1.0 - EPS)
        ce = -y_true * ops.log(p) * w
        if g:
            ce = ce * ops.power(1.0 - p, g)
        return ops.sum(ce, axis=-1)

    loss.__name__ = f"{name}_loss"
    return loss
