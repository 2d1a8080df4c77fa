"""Model hyper-parameters from a plain dict (config file or ``--set``), unknown keys refused.

:func:`check_settings` validates SVM and NN settings without importing scikit-learn or
TensorFlow, so ``chshml train`` refuses a bad value before reading any data, with one line
naming the key.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

T = TypeVar("T")

#: Losses of :mod:`chshml.models.losses` (kept here so checks never import Keras).
NN_LOSSES = ("focal", "bce", "balanced_bce")
SVM_METRICS = ("accuracy", "balanced_accuracy")
#: SVM grid pruning: on the validation score (the old rule), on the training score, or none.
SVM_PRUNE = ("validation", "train", "none")
#: Setting names of ``SVMConfig`` and ``NNConfig`` (a test keeps them equal to the fields).
KEYS = {
    "svm": ("C", "gamma", "metric", "prune", "prune_after", "cache_size_mb", "max_train",
            "fold_symmetry"),
    "nn": ("hidden", "loss", "focal_alpha", "focal_gamma", "alpha_mode", "nonneg",
           "standardize", "restarts", "epochs", "batch_size", "patience", "learning_rate",
           "seed", "verbose", "fold_symmetry"),
}


def from_mapping(cls: type[T], values: dict | None, name: str) -> T:
    """``cls(**values)`` for a dataclass ``cls`` after :func:`check_settings`; a key it does
    not have or a bad value is a ValueError that names it (``name``: ``"svm"`` or ``"nn"``).
    """
    values = dict(values or {})
    unknown = set(values) - set(cls.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown {name} config keys: {sorted(unknown)}")
    errors = check_settings(name, values)
    if errors:
        raise ValueError(errors[0])
    return cls(**values)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _positive_list(name: str, key: str, v: Any, allowed: tuple[str, ...] = ()) -> str | None:
    if not isinstance(v, list) or not v:
        return f"{name} {key}: a non-empty list is needed, got {v!r}"
    for item in v:
        if item in allowed:
            continue
        if not (_number(item) and item > 0):
            extra = f" or one of {list(allowed)}" if allowed else ""
            return f"{name} {key}: every entry must be a number > 0{extra}, got {item!r}"
    return None


def check_settings(name: str, values: dict) -> list[str]:
    """One line per bad value of SVM (``name="svm"``) or NN (``"nn"``) settings."""
    out: list[str] = []
    unknown = sorted(set(values) - set(KEYS.get(name, values)))
    if unknown:
        out.append(f"unknown {name} config keys: {unknown} (known: {', '.join(KEYS[name])})")

    def need(key: str, ok: bool, what: str) -> None:
        if key in values and not ok:
            out.append(f"{name} {key}: must be {what}, got {values[key]!r}")

    if name == "svm":
        for key, allowed in (("C", ()), ("gamma", ("scale", "auto"))):
            if key in values:
                err = _positive_list(name, key, values[key], allowed)
                if err:
                    out.append(err)
        v = values.get
        need("metric", v("metric") in SVM_METRICS, f"one of {list(SVM_METRICS)}")
        need("prune_after", _int(v("prune_after")) and v("prune_after") >= 1, "an integer >= 1")
        need("prune", v("prune") in SVM_PRUNE, f"one of {list(SVM_PRUNE)}")
        need("fold_symmetry", isinstance(v("fold_symmetry"), bool), "true or false")
        need("cache_size_mb", _number(v("cache_size_mb")) and v("cache_size_mb") > 0,
             "a number > 0")
        need("max_train", v("max_train") is None or (_int(v("max_train"))
                                                    and v("max_train") >= 1),
             "null or an integer >= 1")
    elif name == "nn":
        v = values.get
        hidden = v("hidden")
        need("hidden", isinstance(hidden, list) and bool(hidden)
             and all(_int(h) and h >= 1 for h in hidden), "a non-empty list of integers >= 1")
        need("loss", v("loss") in NN_LOSSES, f"one of {list(NN_LOSSES)}")
        need("focal_alpha", _number(v("focal_alpha")) and 0 < v("focal_alpha") <= 1,
             "a number in (0, 1]")
        need("focal_gamma", _number(v("focal_gamma")) and v("focal_gamma") >= 0, "a number >= 0")
        need("alpha_mode", v("alpha_mode") in ("scalar", "class"), "'scalar' or 'class'")
        for key in ("nonneg", "standardize", "fold_symmetry"):
            need(key, isinstance(v(key), bool), "true or false")
        for key in ("restarts", "epochs", "batch_size", "patience"):
            need(key, _int(v(key)) and v(key) >= 1, "an integer >= 1")
        need("learning_rate", _number(v("learning_rate")) and v("learning_rate") > 0,
             "a number > 0")
        need("seed", _int(v("seed")) and 0 <= v("seed") < 2**32, "an integer in [0, 2^32)")
        need("verbose", _int(v("verbose")) and v("verbose") >= 0, "an integer >= 0")
    return out
