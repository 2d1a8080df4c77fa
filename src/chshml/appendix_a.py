"""Appendix A's statistics of boundary distances, shared by the see-saw and certify summaries.

The paper measures, for Q_1+AB boundary points on 10^4 rays through the canonical CHSH facet,
the distance to the quantum set (Q_{6x6} by see-saw there; certified brackets with
``chshml certify-rays``): how many lie below 1e-2, 1e-3 and 1e-7, and (Fig. 6) the histogram
of the distances of at least 1e-3.
"""

from __future__ import annotations

import numpy as np

#: Count cuts of the paper's Appendix A: 9,220 / 6,793 / 5,903 of 10^4 directions below these.
APPENDIX_A_CUTS = (1e-2, 1e-3, 1e-7)


def distance_counts(distances: np.ndarray, cuts: tuple[float, ...] = APPENDIX_A_CUTS
                    ) -> dict[float, int]:
    """Number of points with distance strictly below each cut (NaN never counts)."""
    dist = np.asarray(distances, dtype=float)
    return {float(c): int(np.sum(dist < c)) for c in cuts}


def distance_histogram(distances: np.ndarray, bin_width: float = 1e-3, lower: float = 1e-3
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Fig. 6: counts of distances ``>= lower`` in bins of ``bin_width``: ``(counts, edges)``."""
    dist = np.asarray(distances, dtype=float)
    dist = dist[np.isfinite(dist) & (dist >= lower)]
    top = lower + bin_width * max(1, int(np.ceil((dist.max() - lower) / bin_width + 1e-12))
                                  if len(dist) else 1)
    edges = lower + bin_width * np.arange(int(round((top - lower) / bin_width)) + 1)
    counts, _ = np.histogram(dist, bins=edges)
    return counts, edges
