"""Monte Carlo volume ratios of the report (paper Sec. II and Fig. 2's exact anchors).

vol(Q)/vol(NS) in 4-D is 3 pi^2 / 32 (the TLM body inside the correlator cube); vol(L)/vol(NS)
in 8-D is 16/17 (NS is L plus 8 nonlocal simplices, each of volume vol(L)/128). The estimates
here check the samplers and the labels against those exact values; each returns the fraction
and its binomial standard error.
"""

from __future__ import annotations

import numpy as np

from chshml.geometry import (
    CHSH_SIGNS,
    CORR_DIM,
    FULL_DIM,
    VOLUME_L8_EXACT,
    exit_facet,
    is_local,
    local_facets,
    tlm_margin,
)
from chshml.metrics import binomial_se
from chshml.sampling.polytope import uniform_ns

#: vol(Q)/vol(NS) in 4-D: 3 pi^2 / 32 (the TLM body in the cube).
VOLUME_Q4_EXACT = 3 * np.pi**2 / 32

__all__ = ["VOLUME_L8_EXACT", "VOLUME_Q4_EXACT", "chsh_exit_share", "volume_local8",
           "volume_q4"]


def volume_q4(n: int, rng: np.random.Generator) -> tuple[float, float]:
    """vol(Q)/vol(NS) in 4-D (TLM, exact labels) and its standard error; ~0.925 expected."""
    p = float(np.mean(tlm_margin(rng.uniform(-1, 1, (n, CORR_DIM))) >= 0))
    return p, binomial_se(p, n)


def volume_local8(n: int, rng: np.random.Generator) -> tuple[float, float]:
    """vol(L)/vol(NS) in 8-D from ``n`` uniform NS points; ~0.9412 expected (paper Ref. 32)."""
    p = float(np.mean(is_local(uniform_ns(n, FULL_DIM, rng))))
    return p, binomial_se(p, n)


def chsh_exit_share(n: int, rng: np.random.Generator) -> dict:
    """Share of uniform directions from the origin whose ray leaves L through a CHSH facet.

    Returns the share through the canonical facet (paper: ~0.21 %) and through any of the 8,
    each with its standard error.
    """
    g, h = local_facets(FULL_DIM)
    facet, _ = exit_facet(rng.normal(size=(n, FULL_DIM)), g, h)
    n_ns = len(h) - len(CHSH_SIGNS)  # CHSH rows follow the NS rows, canonical first
    one = float(np.mean(facet == n_ns))
    anyf = float(np.mean(facet >= n_ns))
    return {"canonical": one, "canonical_se": binomial_se(one, n),
            "any": anyf, "any_se": binomial_se(anyf, n), "n": n}
