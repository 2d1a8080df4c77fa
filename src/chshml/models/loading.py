"""Load a saved model of any kind as a :class:`~chshml.models.classifier.Classifier`.

The file suffix names the kind (``.joblib`` SVM, ``.keras`` network, ``.npz`` gauge model);
each kind's module is imported only when such a file is loaded (TensorFlow only for
``.keras``). Loading sits above the kinds, which sit above the ``Classifier`` they return.
"""

from __future__ import annotations

from pathlib import Path

from chshml.errors import InputError
from chshml.models.classifier import MODEL_SUFFIXES, Classifier
from chshml.models.metadata import read_meta


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
    except Exception as err:
        raise InputError(f"{path}: cannot load the model ({type(err).__name__}: {err})") from None
    return Classifier(lambda x: predict_nn(model, x), meta, model, path)
