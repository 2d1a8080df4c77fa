"""Classifiers of the quantum set: RBF SVMs (scikit-learn) and small MLPs (Keras 3).

Importing this package is cheap: TensorFlow is imported only by :mod:`chshml.models.nn`,
which :func:`chshml.models.loading.load_model` imports lazily for ``.keras`` files.
Class convention everywhere: label 1 = quantum, 0 = not quantum (softmax output index 1).
"""

from chshml.models.classifier import Classifier
from chshml.models.loading import load_model
from chshml.models.metadata import model_meta_path

__all__ = ["Classifier", "load_model", "model_meta_path"]
