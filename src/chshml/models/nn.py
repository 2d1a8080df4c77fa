"""Feed-forward network classifier of Q (Keras 3 on TensorFlow) — TensorFlow lives only here.

Architecture (paper Sec. IV A 2): Dense 64 -> 16 -> 4 (ReLU) -> 2 (softmax over
(not quantum, quantum)). Optional non-negative hidden-to-hidden kernels (64->16, 16->4):
with a free first layer and convex non-decreasing ReLU, every hidden unit is then a convex
function of the behaviour (an input-convex network, the paper's Ref. [29]). The softmax
decision compares two such convex functions, so this biases toward, but does not enforce,
a convex quantum region. Losses: see :mod:`chshml.models.losses`. The best of R restarts
(seeds ``seed + r``) by validation balanced accuracy is kept; early stopping restores each
run's best epoch. Runs unchanged on CPU or GPU (Keras places ops itself).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
from keras import ops

from chshml.metrics import balanced_accuracy
from chshml.models._config import from_mapping
from chshml.models.losses import LOSSES, make_loss
from chshml.threads import current as _threads_given


def _size_tensorflow_pools(n: int) -> None:
    """TensorFlow's own pools (not BLAS) to ``n`` threads, before its runtime starts."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)
    except RuntimeError:  # the runtime is already up (e.g. a second import in a notebook)
        pass


_size_tensorflow_pools(_threads_given())

PREDICT_BATCH = 65_536


@dataclass
class NNConfig:
    """Training settings; the paper's choices are the defaults except R (paper: 10)."""

    hidden: list[int] = field(default_factory=lambda: [64, 16, 4])
    loss: str = "focal"
    focal_alpha: float = 1e-2
    focal_gamma: float = 2.0
    alpha_mode: str = "scalar"
    nonneg: bool = False
    standardize: bool = True
    restarts: int = 10
    epochs: int = 150
    batch_size: int = 128
    patience: int = 25
    learning_rate: float = 3e-3
    seed: int = 0
    verbose: int = 0
    fold_symmetry: bool = False  # 8-D: fold onto the simplex's 16 symmetries (not the paper's)

    @classmethod
    def from_dict(cls, d: dict | None) -> NNConfig:
        cfg = from_mapping(cls, d, "nn")
        if cfg.loss not in LOSSES:
            raise ValueError(f"nn loss must be one of {LOSSES}, got {cfg.loss!r}")
        if cfg.restarts < 1 or cfg.epochs < 1:
            raise ValueError("nn restarts and epochs must be >= 1")
        return cfg


@keras.saving.register_keras_serializable(package="chshml")
class BalancedAccuracy(keras.metrics.Metric):
    """Mean of the per-class recalls of (not quantum, quantum) over one-hot targets."""

    def __init__(self, name: str = "balanced_accuracy", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.counts = self.add_variable(shape=(4,), initializer="zeros", name="counts")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        t = ops.cast(ops.argmax(y_true, axis=-1), "float32")
        p = ops.cast(ops.argmax(y_pred, axis=-1), "float32")
        new = ops.stack([ops.sum(t * p), ops.sum(t), ops.sum((1 - t) * (1 - p)),
                         ops.sum(1 - t)])
        self.counts.assign(self.counts + new)

    def result(self) -> Any:
        tp, pos, tn, neg = (self.counts[i] for i in range(4))
        rec1 = ops.where(pos > 0, tp / ops.maximum(pos, 1.0), 0.0)
        rec0 = ops.where(neg > 0, tn / ops.maximum(neg, 1.0), 0.0)
        present = ops.cast(pos > 0, "float32") + ops.cast(neg > 0, "float32")
        return (rec1 + rec0) / ops.maximum(present, 1.0)

    def reset_state(self) -> None:
        self.counts.assign(ops.zeros((4,)))


def build_model(dim: int, cfg: NNConfig, x_train: np.ndarray | None = None) -> keras.Model:
    """The MLP; with ``cfg.standardize`` a Normalization layer adapted to ``x_train``."""
    inputs = keras.Input(shape=(dim,), name="behaviour")
    h = inputs
    if cfg.standardize:
        norm = keras.layers.Normalization(name="standardize")
        norm.adapt(np.asarray(x_train, dtype="float32"))
        h = norm(h)
    for i, width in enumerate(cfg.hidden):
        constraint = keras.constraints.NonNeg() if cfg.nonneg and i > 0 else None
        h = keras.layers.Dense(width, activation="relu", kernel_constraint=constraint,
                               name=f"dense_{i}")(h)
    outputs = keras.layers.Dense(2, activation="softmax", name="quantum_prob")(h)
    return keras.Model(inputs, outputs, name="chshml_mlp")


def _one_hot(y: np.ndarray) -> np.ndarray:
    return np.eye(2, dtype="float32")[np.asarray(y).astype(int)]


def train_nn(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
             config: NNConfig | None = None) -> tuple[keras.Model, dict]:
    """Train R restarts, keep the best by validation balanced accuracy: ``(model, meta)``."""
    cfg = config or NNConfig()
    x_train = np.asarray(x_train, dtype="float32")
    x_val = np.asarray(x_val, dtype="float32")
    y_train = np.asarray(y_train).astype(int)
    y_val = np.asarray(y_val).astype(int)
    loss = make_loss(cfg.loss, y_train, cfg.focal_alpha, cfg.focal_gamma, cfg.alpha_mode)
    runs, best, best_model = [], -1.0, None
    t0 = time.perf_counter()
    for r in range(cfg.restarts):
        keras.utils.set_random_seed(cfg.seed + r)
        model = build_model(x_train.shape[1], cfg, x_train)
        model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss=loss,
                      metrics=[BalancedAccuracy()])
        stop = keras.callbacks.EarlyStopping(monitor="val_balanced_accuracy", mode="max",
                                             patience=cfg.patience, restore_best_weights=True)
        t = time.perf_counter()
        hist = model.fit(x_train, _one_hot(y_train), validation_data=(x_val, _one_hot(y_val)),
                         epochs=cfg.epochs, batch_size=cfg.batch_size, callbacks=[stop],
                         verbose=cfg.verbose, shuffle=True)
        score = balanced_accuracy(y_val, predict_nn(model, x_val))
        runs.append({"restart": r, "seed": cfg.seed + r, "val_balanced_acc": score,
                     "epochs": len(hist.history["loss"]), "seconds": time.perf_counter() - t,
                     "final_loss": float(hist.history["loss"][-1])})
        if score > best:
            best, best_model = score, model
    meta = {
        "kind": "nn", "config": asdict(cfg), "restarts": runs,
        "chosen": {"restart": int(np.argmax([x["val_balanced_acc"] for x in runs])),
                   "val_balanced_acc": best},
        "focal_alpha_semantics": (
            "per class (Lin et al.): weight alpha on quantum (label 1), 1 - alpha on not "
            "quantum" if cfg.alpha_mode == "class" else "scalar: both classes scaled alike"),
        "timings": {"train_seconds": time.perf_counter() - t0},
        "n_train": int(len(y_train)), "n_val": int(len(y_val)),
        "device": [d.name for d in _devices()],
    }
    return best_model, meta


def _devices() -> list[Any]:
    import tensorflow as tf

    return tf.config.list_logical_devices()


def quantum_probability(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Softmax probability of the quantum class, by direct calls in large batches."""
    x = np.asarray(x, dtype="float32")
    out = [ops.convert_to_numpy(model(x[i:i + PREDICT_BATCH], training=False))[:, 1]
           for i in range(0, len(x), PREDICT_BATCH)]
    return np.concatenate(out) if out else np.zeros(0)


def predict_nn(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Labels (int8, 1 = quantum): the argmax of the two softmax outputs."""
    return (quantum_probability(model, x) > 0.5).astype(np.int8)


def save_nn(model: keras.Model, meta: dict, path: str | Path, inputs: tuple = ()) -> None:
    """Save as ``.keras`` and the metadata JSON beside it, as one unit
    (:func:`chshml.models.metadata.save_with_meta`).
    """
    from chshml.models.metadata import save_with_meta

    save_with_meta(path, meta, lambda tmp: model.save(tmp), inputs)


def load_nn(path: str | Path) -> keras.Model:
    """The network saved by :func:`save_nn` (uncompiled: for prediction)."""
    return keras.models.load_model(path, compile=False)
