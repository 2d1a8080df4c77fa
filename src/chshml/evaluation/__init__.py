"""Judging classifiers of Q: the evaluation protocol, the spread test and slices.

Everything works from a ``predict(points) -> labels`` function (label 1 = quantum), so it
serves SVMs, networks and gauge models alike; scores are in :mod:`chshml.metrics`.
"""

from chshml.evaluation.protocol import EvaluationResult, TestSets, evaluate_model, load_test_sets

__all__ = ["EvaluationResult", "TestSets", "evaluate_model", "load_test_sets"]
