"""Samplers of CHSH behaviours: polytope samplers (unlabelled) and boundary-aware ones."""

from chshml.sampling.polytope import (
    canonical_facet_directions,
    hit_and_run,
    uniform_canonical_simplex,
    uniform_cube,
    uniform_directions,
    uniform_ns,
    uniform_simplex,
)

__all__ = [
    "canonical_facet_directions",
    "hit_and_run",
    "uniform_canonical_simplex",
    "uniform_cube",
    "uniform_directions",
    "uniform_ns",
    "uniform_simplex",
]
