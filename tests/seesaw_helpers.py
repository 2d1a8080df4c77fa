"""Explicit see-saw test inputs: points just outside Q (by Tsirelson), behaviours of random
qubit and qutrit realisations, a brute-force behaviour, and see-saw input files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from chshml.seesaw.realisation import (
    behaviour,
    project_states,
    qubit_realisation,
    random_observables,
)
from chshml.store import write_h5

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


def qutrit_point() -> np.ndarray:
    """A behaviour of a random qutrit realisation (mixed state, non-projective observables)."""
    rng = np.random.default_rng(7)
    rho = project_states(rng.standard_normal((9, 9)) + 3 * np.eye(9) / 9)
    a, b = random_observables(3, 123)
    return behaviour(rho, 0.9 * a, b)


def brute_behaviour(rho: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = a.shape[-1]
    eye = np.eye(d)
    ops = [np.kron(a[0], eye), np.kron(a[1], eye), np.kron(eye, b[0]), np.kron(eye, b[1])]
    ops += [np.kron(a[x], b[y]) for x in (0, 1) for y in (0, 1)]
    return np.array([np.trace(rho @ o) for o in ops])


def write_input(path: Path, points: np.ndarray, certified: np.ndarray | None = None) -> None:
    """A see-saw input file: points, and optionally the mask certified by an earlier round."""
    data = {"points": points}
    if certified is not None:
        data["certified"] = certified
    write_h5(path, data)
