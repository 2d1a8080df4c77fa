"""chshml.seesaw.summary: Appendix A counts and histogram."""

from __future__ import annotations

import numpy as np
from seesaw_helpers import beyond_tsirelson, random_qubit_points

from chshml.appendix_a import distance_counts, distance_histogram


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
