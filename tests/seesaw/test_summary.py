"""chshml.seesaw.summary: Appendix A counts and histogram."""

from __future__ import annotations

import numpy as np

from chshml.appendix_a import distance_counts, distance_histogram
from chshml.seesaw.realisation import (
    behaviour,
    qubit_realisation,
)

TSIRELSON = 1.0 / np.sqrt(2.0)


def beyond_tsirelson(delta: float) -> np.ndarray:
    """``(1/sqrt2 + delta) * PR``: outside Q by Tsirelson; its distance to Q is ``2 delta``."""
    c = TSIRELSON + delta
    return np.array([0, 0, 0, 0, c, c, c, -c], dtype=float)


def random_qubit_points(n: int, seed: int) -> np.ndarray:
    """Behaviours of random real qubit realisations (pure, partly entangled states)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        th = rng.uniform(0, 2 * np.pi, 4)
        out.append(behaviour(*qubit_realisation(th[:2], th[2:], rng.standard_normal(4))))
    return np.array(out)


def test_appendix_a_counts_and_histogram():
    from chshml.seesaw import appendix_a_distances

    boundary = np.vstack([random_qubit_points(2, 51), beyond_tsirelson(0.002)[None]])
    res = appendix_a_distances(boundary, local_dim=2, restarts=2, log=False)
    assert res.certified[:2].all() and not res.certified[2]
    counts = distance_counts(res.distance)
    assert counts == {1e-2: 3, 1e-3: 2, 1e-7: 2}
    hist, edges = distance_histogram(np.array([5e-4, 1.2e-3, 1.9e-3, 3.5e-3, np.nan]))
    np.testing.assert_allclose(edges, [1e-3, 2e-3, 3e-3, 4e-3])
    assert list(hist) == [2, 0, 1]
