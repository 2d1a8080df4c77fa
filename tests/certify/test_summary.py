"""chshml.certify.summary and its report table: certified Appendix A counts, Fig. 6 bins and
the paper's share of directions whose boundary pairs are right about Q.
"""

from __future__ import annotations

import numpy as np
import pytest

from chshml.certify.summary import appendix_a_summary
from chshml.report import tables


def _rays() -> tuple[dict, dict]:
    # five rays: two on Q's boundary, one at 5e-3 (bracket [4e-3, 6e-3]), two beyond 1e-2
    d_lo = np.array([0.0, 0.0, 4e-3, 0.02, 0.03])
    d_hi = np.array([1e-9, 1e-9, 6e-3, 0.02, 0.031])
    data = {"d_lo": d_lo, "d_hi": d_hi, "t_lo": np.zeros(5), "t_hi": np.full(5, 1e-8)}
    return data, {"level": "4", "cpu_seconds": 1.0}


def test_counts_are_certified_ranges_and_the_histogram_bins_both_bounds():
    s = appendix_a_summary(*_rays())
    assert s["counts_below"] == {"0.01": [3, 3], "0.001": [2, 2], "1e-07": [2, 2]}
    edges = np.asarray(s["histogram"]["edges"])
    assert edges[0] == pytest.approx(1e-3) and np.allclose(np.diff(edges), 1e-3)
    assert sum(s["histogram"]["d_hi"]) == 3 and sum(s["histogram"]["d_lo"]) == 3
    # the 5e-3 ray: its upper bound in [6e-3, 7e-3), its lower bound in [4e-3, 5e-3)
    assert s["histogram"]["d_hi"][5] == 1 and s["histogram"]["d_lo"][3] == 1


def test_share_of_all_directions_follows_the_papers_reading():
    s = appendix_a_summary(*_rays())
    text = tables.appendix_a_certify(tables.paper_values(), s, chsh_share=0.0168)
    # eps = 1e-2: 3 of 5 facet rays right -> 1 - 0.0168 * 2/5; eps = 1e-3: 1 - 0.0168 * 3/5
    assert f"{1 - 0.0168 * 2 / 5:.4%}" in text and f"{1 - 0.0168 * 3 / 5:.4%}" in text
    assert "99.87%" in text and "99.46%" in text  # the paper's values beside ours
