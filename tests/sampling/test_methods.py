"""Sampling methods: rays screened for a curved boundary (``--curved-at``)."""

from __future__ import annotations

import numpy as np
import pytest

from chshml.errors import InputError
from chshml.geometry import NS_FACET_RTOL
from chshml.sampling.methods import draw_sample
from chshml.store import SampleFile


def test_curved_directions_keep_only_rays_curved_at_the_screening_level():
    from chshml.npa import label_points

    s = draw_sample("directions", "full8", 40, seed=3, dataset="c", curved_at="1+AB")
    points = s.data[SampleFile.POINTS]
    assert points.shape == (40, 8) and s.attrs["curved_at"] == "1+AB"
    assert s.attrs["directions_drawn"] > 40  # most rays are flat at 1+AB: some were dropped
    lam = label_points(points, "1+AB").lam  # an independent solve of the kept rays
    assert np.all(lam < 1 - NS_FACET_RTOL)
    plain = draw_sample("directions", "full8", 200, seed=3, dataset="c").data[SampleFile.POINTS]
    assert np.mean(label_points(plain, "1+AB").lam < 1 - NS_FACET_RTOL) < 0.5
    again = draw_sample("directions", "full8", 40, seed=3, dataset="c", curved_at="1+AB")
    assert np.array_equal(again.data[SampleFile.POINTS], points)  # one stream per seed


def test_curved_at_is_refused_outside_directions():
    with pytest.raises(InputError, match="--curved-at"):
        draw_sample("uniform", "full8", 4, seed=0, curved_at="1+AB")


def test_curved_at_gives_up_with_one_line_when_no_ray_is_curved(monkeypatch):
    from types import SimpleNamespace

    import chshml.npa

    def all_flat(points, level, solver="auto", progress=False):
        return SimpleNamespace(lam=np.ones(len(points)))  # every boundary on an NS facet

    monkeypatch.setattr(chshml.npa, "label_points", all_flat)
    with pytest.raises(InputError, match="only 0 of .* rays have a curved boundary"):
        draw_sample("directions", "full8", 4, seed=0, curved_at="1+AB")
