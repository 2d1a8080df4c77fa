"""Certified brackets on the gauge of Q along rays: Tsirelson, deterministic points, Appendix A."""

import numpy as np

from chshml import geometry as g
from chshml.certify.ray import appendix_a, q_gauge_bracket


def test_bracket_contains_tsirelson_and_is_tight():
    u = np.vstack([g.PR_BOXES[:3], g.LOCAL_DETERMINISTIC_POINTS[:1]])
    br = q_gauge_bracket(u, "1+AB")
    exact = np.array([1 / np.sqrt(2)] * 3 + [1.0])
    assert np.all(br.t_lo <= exact + 1e-15) and np.all(br.t_hi >= exact - 1e-12)
    assert np.all((br.t_hi - br.t_lo) / exact <= 1e-8)
    assert np.all(br.n_atoms >= 1)


def test_appendix_a_distances_bracket_the_gap_between_q1ab_and_q():
    rng = np.random.default_rng(3)
    u = rng.dirichlet(np.ones(9), 6) @ g.nonlocal_simplex_vertices(0)
    res = appendix_a(u, level="3")
    assert np.all(res.d_lo <= res.d_hi + 1e-15) and np.all(res.d_lo >= 0)
    assert np.all(res.bracket.t_lo <= res.lam_1ab * (1 + 1e-9))   # Q is inside Q_1+AB
    lo, hi = res.counts()[1e-2]
    assert 0 <= lo <= hi <= len(u)
