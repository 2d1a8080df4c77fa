"""Shared fixtures. Helper functions live in ``_helpers.py`` (import them from there)."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import qubit_realisations


@pytest.fixture(scope="session")
def qubit_points() -> np.ndarray:
    """500 behaviours of random qubit-qubit realisations (seed 11): all in Q."""
    return qubit_realisations(500, seed=11)
